// Writes maven-ranges.tsv: version<TAB>range<TAB>true|false|invalid|soft, answered by maven-artifact
// 3.8.7 (Debian libmaven3-core-java 3.8.7-1): VersionRange.createFromVersionSpec(range)
// .containsVersion(new DefaultArtifactVersion(version)); "soft" for a bare version (a soft
// requirement, which maven satisfies with anything). Ranges are built from the versions of
// shared/data/versions/maven.tsv in every bracket shape, plus unions and malformed specs.
// Run: javac -cp maven-artifact.jar:commons-lang3.jar MavenRanges.java &&
//      java -cp maven-artifact.jar:commons-lang3.jar:. MavenRanges SHARED_DATA_DIR > maven-ranges.tsv
import org.apache.maven.artifact.versioning.*;
import java.nio.file.*;
import java.util.*;

public class MavenRanges {
  public static void main(String[] args) throws Exception {
    TreeSet<String> pool = new TreeSet<>();
    for (String line : Files.readAllLines(Paths.get(args[0], "versions", "maven.tsv"))) {
      String[] p = line.split("\t");
      pool.add(p[0]);
      pool.add(p[1]);
    }
    List<String> versions = new ArrayList<>(pool);
    Random rng = new Random(387);
    String[] shapes = {"[%s,%s)", "[%s,%s]", "(%s,%s)", "(%s,%s]", "(,%s]", "(,%s)", "[%s,)", "(%s,)", "[%s]",
      "(,%s],[%s,)", "[%s,%s),[%s,)", "[ %s , %s )", "%s", "(%s)", "[%s,%s", "[%s,%s)x", "[%s,%s),%s"};
    for (int i = 0; i < 400; i++) {
      String shape = shapes[rng.nextInt(shapes.length)];
      String[] vs = new String[3];
      for (int k = 0; k < 3; k++) vs[k] = versions.get(rng.nextInt(versions.size()));
      Arrays.sort(vs, (x, y) -> new ComparableVersion(x).compareTo(new ComparableVersion(y)));
      if (rng.nextInt(5) == 0) { String t = vs[0]; vs[0] = vs[1]; vs[1] = t; }
      String range = String.format(shape, (Object[]) vs);
      for (int k = 0; k < 6; k++) {
        String v = k < 3 ? vs[k] : versions.get(rng.nextInt(versions.size()));
        String answer;
        try {
          VersionRange r = VersionRange.createFromVersionSpec(range);
          answer = r.getRecommendedVersion() != null ? "soft" : String.valueOf(r.containsVersion(new DefaultArtifactVersion(v)));
        } catch (InvalidVersionSpecificationException e) {
          answer = "invalid";
        }
        System.out.println(v + "\t" + range + "\t" + answer);
      }
    }
  }
}
