#!/usr/bin/env bash
# Prepares gpu-carry/glance-gpu.tar.xz: everything scripts/gpu-check.sh needs on a GPU machine
# that has no Java, no Maven and no network: a jlink'ed Temurin 25 runtime, the built jars and
# their dependencies (natives for other platforms stripped), the glance-cuda test classes, the
# JUnit console launcher and the reference fixture. Run here, then carry gpu-carry (docs/GPU.md).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
fixtures="${GLANCE_FIXTURES:-$root/../shared/fixtures}"
junit_console="org.junit.platform:junit-platform-console-standalone:1.14.4"
test -d "$fixtures/glm4v-tiny-a" || { echo "make-gpu-carry: no fixture at $fixtures/glm4v-tiny-a" >&2; exit 1; }

echo "make-gpu-carry: building (jars, test classes, dependencies)..." >&2
./mvnw -B -q -DskipTests package dependency:copy-dependencies -DincludeScope=test
./mvnw -B -q dependency:copy -Dartifact="$junit_console" -DoutputDirectory="$root/glance-cuda/target/tools" -pl glance-cuda

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/glance/lib" "$stage/glance/tools" "$stage/glance/fixtures"

# Our jars from target/ (never from ~/.m2, which other worktrees also install into).
cp glance-engine/target/glance-engine-0.1.0-SNAPSHOT.jar glance-engine/target/glance-engine-0.1.0-SNAPSHOT-tests.jar \
   glance-cuda/target/glance-cuda-0.1.0-SNAPSHOT.jar glance-server/target/glance-server-0.1.0-SNAPSHOT.jar \
   glance-cli/target/glance-cli-0.1.0-SNAPSHOT.jar "$stage/glance/lib/"
# Third-party jars: the CLI's runtime ones and glance-cuda's test ones, once each; JUnit comes
# with the console launcher.
for jar in glance-cli/target/lib/*.jar glance-cuda/target/dependency/*.jar; do
  name="$(basename "$jar")"
  case "$name" in
    glance-*|junit-*|opentest4j-*|apiguardian-*) continue ;;
  esac
  cp -n "$jar" "$stage/glance/lib/"
done
cp glance-cuda/target/tools/junit-platform-console-standalone-*.jar "$stage/glance/tools/junit-console.jar"
cp -r glance-cuda/target/test-classes "$stage/glance/test-classes"
cp -r "$fixtures/glm4v-tiny-a" "$stage/glance/fixtures/"

# Native libraries for other platforms are most of the tokenizer's and SQLite's jars.
python3 - "$stage/glance/lib" <<'PY'
import os, sys, zipfile
lib = sys.argv[1]
keep = {"tokenizers-": "native/lib/linux-x86_64/", "sqlite-jdbc-": "org/sqlite/native/Linux/x86_64/"}
for name in os.listdir(lib):
    for prefix, native in keep.items():
        if not name.startswith(prefix):
            continue
        path = os.path.join(lib, name)
        src = zipfile.ZipFile(path)
        out = zipfile.ZipFile(path + ".new", "w", zipfile.ZIP_DEFLATED)
        for item in src.infolist():
            n = item.filename
            # Only files inside another platform's folder go; files directly under the native
            # root (DJL's tokenizers.properties names the library version) must stay.
            root = "native/lib/" if prefix == "tokenizers-" else "org/sqlite/native/"
            in_platform_dir = n.startswith(root) and "/" in n[len(root):]
            if in_platform_dir and not n.startswith(native) and not n.endswith("/"):
                continue
            out.writestr(item, src.read(n))
        out.close(); src.close()
        os.replace(path + ".new", path)
PY

# The Java runtime: the modules jdeps finds in use, without the attach/debug ones some libraries
# reference but never load here.
modules="java.base,java.desktop,java.logging,java.management,java.naming,java.net.http,java.sql,java.xml,jdk.incubator.vector,jdk.unsupported,jdk.crypto.ec,jdk.zipfs"
"$JAVA_HOME/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files --compress=zip-0 \
  --output "$stage/glance/jdk" 2> >(grep -v 'incubator' >&2)

# Check the runtime runs the CLI and finds the GPU tests before packing.
"$stage/glance/jdk/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
  -cp "$stage/glance/lib/*" dev.glance.cli.Main bench --help > /dev/null 2> >(grep -v 'incubator' >&2)

mkdir -p gpu-carry
rm -f gpu-carry/glance-gpu.tar.xz
tar -C "$stage" -cf - glance | xz -T2 -6 > gpu-carry/glance-gpu.tar.xz
size=$(stat --format=%s gpu-carry/glance-gpu.tar.xz)
echo "make-gpu-carry: gpu-carry/glance-gpu.tar.xz $((size / 1048576)) MiB ($(du -sh "$stage/glance" | cut -f1) unpacked)" >&2
if [ "$size" -ge $((64 * 1048576)) ]; then
  echo "make-gpu-carry: over the 64 MiB carry limit" >&2
  exit 1
fi
