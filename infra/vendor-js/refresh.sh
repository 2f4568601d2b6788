#!/bin/sh
# Rebuilds api/static/vendor/ from the npm packages pinned here (package.json, package-lock.json).
# Run it by hand after changing a version; nothing downloads at run time, and the page uses no CDN.
#   infra/vendor-js/refresh.sh              # the versions in package-lock.json
#   infra/vendor-js/refresh.sh --update     # re-resolve package.json first (then commit the new lock file)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/../../api/static/vendor"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cp "$here/package.json" "$work/"
if [ "${1:-}" = "--update" ]; then
  (cd "$work" && npm install --no-audit --no-fund --ignore-scripts --loglevel=error)
  cp "$work/package-lock.json" "$here/"
else
  cp "$here/package-lock.json" "$work/"
  (cd "$work" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
fi

cd "$work"
version=$(node -p 'require("jsqr/package.json").version')
# jsQR ships only an unminified build (257 kB); terser halves it. The page loads it only when a phone
# without the native BarcodeDetector taps "Scan with camera".
{
  echo "/*! jsQR $version (npm: jsqr) | Apache-2.0, see jsQR.LICENSE | minified with terser */"
  node_modules/.bin/terser node_modules/jsqr/dist/jsQR.js --compress --mangle --comments false
} >"$out/jsQR.min.js"
cp node_modules/jsqr/LICENSE "$out/jsQR.LICENSE"
echo "api/static/vendor/jsQR.min.js: jsqr $version, $(wc -c <"$out/jsQR.min.js") bytes"
