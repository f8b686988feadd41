#!/usr/bin/env bash
# fuzz.sh runs every native Go fuzz target of the module, one after another,
# each for FUZZTIME (default 3s): go test -run '^$' -fuzz '^Name$' -fuzztime T ./pkg
#
#   ./fuzz.sh                      every target, 3s each
#   FUZZTIME=10m ./fuzz.sh         longer
#   ./fuzz.sh ./flows/ FuzzStep    only packages ./flows/..., targets matching FuzzStep
#
# A failing input is saved under the package's testdata/fuzz/<Name>/ and
# then runs with plain `go test` until fixed. Exits non-zero if any target
# failed.
set -uo pipefail
cd "$(dirname "$0")"

fuzztime=${FUZZTIME:-3s}
pkgs=${1:-./...}
filter=${2:-}

# Package and target names, from go test -list (it prints the names, then
# "ok <package>").
mapfile -t lines < <(go test -list '^Fuzz' "$pkgs" 2>&1)
targets=()
names=()
for line in "${lines[@]}"; do
	case $line in
	Fuzz*) names+=("$line") ;;
	ok*)
		pkg=$(awk '{print $2}' <<<"$line")
		for n in "${names[@]}"; do
			if [[ -z $filter || $n == *"$filter"* ]]; then
				targets+=("$pkg $n")
			fi
		done
		names=()
		;;
	FAIL* | *"build failed"* | *"cannot find"*)
		echo "fuzz.sh: go test -list failed: $line" >&2
		printf '%s\n' "${lines[@]}" >&2
		exit 2
		;;
	esac
done
if ((${#targets[@]} == 0)); then
	echo "fuzz.sh: no fuzz targets in $pkgs${filter:+ matching $filter}" >&2
	exit 2
fi

echo "fuzz.sh: ${#targets[@]} targets, $fuzztime each"
failed=()
for t in "${targets[@]}"; do
	read -r pkg name <<<"$t"
	echo "=== $name ($pkg)"
	if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg"; then
		failed+=("$name ($pkg)")
	fi
done

echo
if ((${#failed[@]} > 0)); then
	echo "fuzz.sh: ${#failed[@]} of ${#targets[@]} targets failed:"
	printf '  %s\n' "${failed[@]}"
	echo "Failing inputs are under each package's testdata/fuzz/<Name>/; go test -run '<Name>/<file>' ./pkg replays one."
else
	echo "fuzz.sh: all ${#targets[@]} targets passed ($fuzztime each)."
fi
echo "To fuzz longer: FUZZTIME=10m ./fuzz.sh   (one package or target: ./fuzz.sh ./flows/ FuzzStepData)"
((${#failed[@]} == 0))
