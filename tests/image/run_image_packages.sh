#!/usr/bin/env bash
# The Dockerfile's runtime stage installs exactly the Debian packages of the shared libraries that pipec links:
# `ldd PIPEC`, each library resolved to its package with `dpkg -S`. A library added to the build without its package
# in the image (or a package left in the image that nothing links) fails here, not in production.
# Also checks the shape the image relies on: two stages, the build stage running `tools/setup --no-run`, a Debian 12
# runtime stage, a non-root user, pipec on the PATH, the well-known .proto files copied from where pipec was built.
#   tests/image/run_image_packages.sh PIPEC
set -uo pipefail
PIPEC=$(realpath "$1")
cd "$(dirname "$0")/../.."
failures=0
ok() { echo "ok   $1"; }
fail() { echo "FAIL $1"; failures=$((failures + 1)); }

command -v dpkg > /dev/null || { echo "skip: no dpkg (not a Debian machine)"; exit 0; }

# The runtime stage: from its FROM to the end of the file (or the next FROM).
runtime=$(awk '/^FROM /{stage = ($0 ~ / AS runtime$/)} stage' Dockerfile)
[ -n "$runtime" ] || { fail "Dockerfile has no stage named runtime"; exit 1; }
declared=$(printf '%s\n' "$runtime" | tr '\\' '\n' | awk '
  /apt-get install/ { collecting = 1; sub(/.*apt-get install/, "") }
  collecting { if ($0 ~ /&&/) { sub(/&&.*/, ""); print; collecting = 0 } else print }' |
  tr ' ' '\n' | grep -v '^-' | grep -v '^$' | sort -u)

package_of() {  # the package owning a library path, trying the merged-/usr spellings dpkg may have recorded
  local path=$1 real
  real=$(readlink -f "$path")
  for candidate in "$path" "$real" "/usr$path" "${real#/usr}"; do
    dpkg -S "$candidate" 2> /dev/null | head -1 | cut -d: -f1 && return 0
  done
  echo "UNKNOWN:$path"
}
linked=$(ldd "$PIPEC" | awk '/=> \// {print $3} /^\s*\/.*ld-linux/ {print $1}' | while read -r library; do package_of "$library"; done | sort -u)
if printf '%s\n' "$linked" | grep -q '^UNKNOWN:'; then
  fail "libraries that no Debian package owns: $(printf '%s\n' "$linked" | grep '^UNKNOWN:' | tr '\n' ' ')"
fi
missing=$(comm -23 <(printf '%s\n' "$linked") <(printf '%s\n' "$declared"))
extra=$(comm -13 <(printf '%s\n' "$linked") <(printf '%s\n' "$declared"))
# The image holds the Release build (tools/setup --no-run); an ASan/UBSan build (tools/test --sanitize) links the
# sanitizer runtimes and not jemalloc, so its packages say nothing about the image.
cache="$(dirname "$(dirname "$PIPEC")")/CMakeCache.txt"
if grep -q '^PIPEC_SANITIZE:BOOL=ON' "$cache" 2> /dev/null; then
  echo "skip the package comparison: this pipec is the sanitizer build (the image holds the Release build)"
elif [ -z "$missing" ] && [ -z "$extra" ]; then
  ok "the runtime stage installs exactly the $(printf '%s\n' "$linked" | wc -l) packages pipec links"
else
  [ -z "$missing" ] || fail "packages pipec links that the runtime stage does not install: $(echo $missing)"
  [ -z "$extra" ] || fail "packages the runtime stage installs that pipec does not link: $(echo $extra)"
fi

[ "$(grep -c '^FROM ' Dockerfile)" = 2 ] && ok "two stages" || fail "the Dockerfile should have a build and a runtime stage"
grep -q '^FROM debian:12 AS build' Dockerfile && grep -q 'tools/setup --no-run' Dockerfile && ok "build stage: Debian 12, tools/setup --no-run" ||
  fail "the build stage must be Debian 12 and run tools/setup --no-run"
printf '%s\n' "$runtime" | grep -q '^FROM debian:12-slim AS runtime' && ok "runtime stage: debian:12-slim" || fail "the runtime stage must be debian:12-slim"
user=$(printf '%s\n' "$runtime" | sed -n 's/^USER //p' | tail -1)
if [ -n "$user" ] && [ "${user%%:*}" != 0 ] && [ "${user%%:*}" != root ]; then ok "runs as non-root user $user"; else fail "the runtime stage must end with a non-root USER"; fi
printf '%s\n' "$runtime" | grep -q 'COPY --from=build /src/build/tools/pipec /usr/local/bin/pipec' && ok "pipec on the PATH" || fail "pipec must be copied to /usr/local/bin"
# pipec maps google/protobuf imports to the include directory it was built with: the image must hold the files there.
include_dir=$(sed -n 's/^Protobuf_INCLUDE_DIR:PATH=//p' "$cache" 2> /dev/null)
if printf '%s\n' "$runtime" | grep -q "COPY --from=build ${include_dir:-/usr/include}/google/protobuf/\*.proto"; then
  ok "well-known .proto files copied to ${include_dir:-/usr/include}/google/protobuf"
else
  fail "the runtime stage must copy ${include_dir:-/usr/include}/google/protobuf/*.proto (pipec's protobuf include directory)"
fi
# The manifests name pipec:<version> by default: the documented build command must tag the image that way.
version=$("$PIPEC" --version | awk '{print $NF}')
grep -q "docker build -t pipec:$version ." Dockerfile && ok "the documented tag is pipec:$version, the manifests' default image" ||
  fail "Dockerfile comment should document docker build -t pipec:$version ."

# `--image REF` names the image in the manifests; without it they name pipec:<version>.
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
"$PIPEC" compile examples/store_order_count.yaml --env prod -o "$WORK/default" > /dev/null 2>&1
"$PIPEC" compile examples/store_order_count.yaml --env prod --image registry.example.com/pipec:test -o "$WORK/named" > /dev/null 2>&1
grep -q "image: \"pipec:$version\"" "$WORK/default/canary_store_order_count/kubernetes.yaml" && ok "manifests name pipec:$version by default" ||
  fail "the default image is not pipec:$version"
grep -q 'image: "registry.example.com/pipec:test"' "$WORK/named/canary_store_order_count/kubernetes.yaml" && ok "--image names the image in the manifests" ||
  fail "--image is not in the manifests"

echo "image: $failures failure(s)"
[ "$failures" = 0 ]
