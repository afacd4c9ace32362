#!/bin/bash
# Documentation checks, run by CI: every public symbol of the SwiftMPI module carries a `///`
# comment, and the DocC catalog (Sources/SwiftMPI/SwiftMPI.docc) builds without a warning.
#
#     bash Tests/Scripts/check-docs.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

swift package dump-symbol-graph >/dev/null
graph=$(find .build -path '*symbolgraph/SwiftMPI.symbols.json' | head -1)
python3 - "$graph" "$PWD/Sources/" <<'PY'
import json, sys
graph, sources = sys.argv[1], sys.argv[2]
missing = []
for symbol in json.load(open(graph))["symbols"]:
    if symbol.get("accessLevel") not in ("public", "open"):
        continue
    location = symbol.get("location", {})
    uri = location.get("uri", "")
    if sources not in uri or symbol.get("docComment"):
        continue  # documented, or not declared in this package (a protocol's default implementation)
    line = location["position"]["line"] + 1
    missing.append(f"{uri.split(sources)[1]}:{line}: {'.'.join(symbol['pathComponents'])} has no /// comment")
for line in missing:
    print(line)
print(f"check-docs: {len(missing)} undocumented public symbols in SwiftMPI")
sys.exit(1 if missing else 0)
PY

swift package --disable-sandbox generate-documentation --target SwiftMPI --warnings-as-errors >/tmp/swiftmpi-docc.log 2>&1 || {
    cat /tmp/swiftmpi-docc.log
    echo "check-docs: the DocC catalog has warnings or errors (above)"
    exit 1
}
rm -f /tmp/swiftmpi-docc.log
echo "check-docs: the DocC catalog builds without warnings"
