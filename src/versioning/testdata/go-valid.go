// Writes go-valid.tsv: string<TAB>true|false, answered by semver.IsValid of golang.org/x/mod 0.7.0
// (Debian golang-golang-x-mod-dev 0.7.0-1). Strings: those of shared/data/versions/go-semver.tsv
// and mechanical mutations of them (no "v", leading zeros, shorthands with suffixes, empty or
// doubled separators, stray characters).
// Run: GOPATH=/usr/share/gocode GO111MODULE=off go run go-valid.go SHARED_DATA_DIR > go-valid.tsv
package main

import (
	"bufio"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/mod/semver"
)

func main() {
	f, err := os.Open(filepath.Join(os.Args[1], "versions", "go-semver.tsv"))
	if err != nil {
		panic(err)
	}
	set := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Split(sc.Text(), "\t")
		set[p[0]] = true
		set[p[1]] = true
	}
	var pool []string
	for s := range set {
		pool = append(pool, s)
	}
	sort.Strings(pool)
	rng := rand.New(rand.NewSource(19))
	mutations := []func(string) string{
		func(s string) string { return strings.TrimPrefix(s, "v") },
		func(s string) string { return "v0" + s[1:] },
		func(s string) string { return strings.Replace(s, ".", ".0", 1) },
		func(s string) string { return s + "-" },
		func(s string) string { return s + "+" },
		func(s string) string { return s + "-01" },
		func(s string) string { return s + "-1.01" },
		func(s string) string { return s + "+01" },
		func(s string) string { return s + "..1" },
		func(s string) string { return s + "-a..b" },
		func(s string) string { return s + "-a_b" },
		func(s string) string { return s + " " },
		func(s string) string { return "V" + s[1:] },
		func(s string) string { return strings.SplitN(s, ".", 2)[0] },
		func(s string) string { return strings.SplitN(s, ".", 2)[0] + "-rc1" },
		func(s string) string { p := strings.SplitN(s, ".", 3); return strings.Join(p[:2], ".") },
		func(s string) string { p := strings.SplitN(s, ".", 3); return strings.Join(p[:2], ".") + "+build" },
		func(s string) string { return s + ".4" },
		func(s string) string { return s + "+incompatible" },
	}
	for i := 0; i < 1200; i++ {
		s := pool[rng.Intn(len(pool))]
		if i%3 != 0 {
			s = mutations[rng.Intn(len(mutations))](s)
		}
		fmt.Printf("%s\t%v\n", s, semver.IsValid(s))
	}
}
