"""Writes pep440-specifiers.tsv: version<TAB>specifier set<TAB>true|false|invalid, answered by the
packaging 21.3 that pip 23.2.1 vendors: SpecifierSet(spec).contains(version, prereleases=True);
'invalid' where packaging reads an item only as a LegacySpecifier (or rejects it).
Inputs: versions of shared/data/versions/pep440.tsv, specifiers of the Requires-Dist lines of
shared/data/pkgdb/python/*/METADATA, and specifiers built from those versions.
Run: python3 gen-pep440-specifiers.py SHARED_DATA_DIR > pep440-specifiers.tsv"""
import glob, random, re, sys
from pip._vendor.packaging.specifiers import SpecifierSet, InvalidSpecifier, LegacySpecifier
from pip._vendor.packaging.version import Version

root = sys.argv[1]
rng = random.Random(440)
versions = sorted({c for line in open(f"{root}/versions/pep440.tsv") for c in line.split("\t")[:2]})
specs = set()
for path in sorted(glob.glob(f"{root}/pkgdb/python/*/METADATA")):
    for line in open(path, encoding="utf-8"):
        if not line.startswith("Requires-Dist:"):
            continue
        req = line.split(":", 1)[1].split(";")[0].strip()
        m = re.match(r"^[A-Za-z0-9._-]+(\[[^\]]*\])?\s*\(?([^)]*)\)?$", req)
        if m and m.group(2).strip():
            specs.add(m.group(2).strip())
ops = ["==", "!=", "<", "<=", ">", ">=", "~=", "==="]
for _ in range(500):
    v = rng.choice(versions)
    op = rng.choice(ops)
    s = op + rng.choice(["", " "]) + v
    if op in ("==", "!=") and rng.random() < 0.3:
        s = op + ".".join(str(x) for x in Version(v).release[: rng.randint(1, 3)]) + ".*"
    if rng.random() < 0.3:
        s += "," + rng.choice(ops) + rng.choice(versions)
    specs.add(s)
for spec in sorted(specs):
    try:
        ss = SpecifierSet(spec)
        legacy = any(isinstance(s, LegacySpecifier) for s in ss)
    except InvalidSpecifier:
        ss, legacy = None, True
    release = spec.lstrip("=<>!~ ").split(",")[0].split("*")[0]
    near = [v for v in versions if v.startswith(release[:3])] or versions
    for v in rng.sample(versions, 3) + rng.sample(near, min(3, len(near))):
        answer = "invalid" if legacy else str(ss.contains(v, prereleases=True)).lower()
        print(f"{v}\t{spec}\t{answer}")
