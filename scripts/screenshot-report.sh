#!/bin/sh
# screenshot-report.sh DIR OUT.png [WIDTH HEIGHT]
#
# Renders DIR/report.html (as written by eqens's report package) with
# headless Chromium and writes a screenshot of the top WIDTHxHEIGHT pixels
# (default 1200x2000) to OUT.png, to check how a report looks without a
# desktop. Installs Debian's chromium package when no Chromium is found and
# the script runs as root; otherwise says how to get one.
#
# Set CHROMIUM to the browser binary to use another one.
set -eu

usage() {
	echo "usage: $0 DIR OUT.png [WIDTH HEIGHT]" >&2
	exit 2
}
[ $# -eq 2 ] || [ $# -eq 4 ] || usage
dir=$1
out=$2
width=${3:-1200}
height=${4:-2000}

if [ ! -f "$dir/report.html" ]; then
	echo "$0: $dir/report.html: no such file" >&2
	exit 1
fi
case $width$height in
*[!0-9]*)
	echo "$0: width and height must be numbers of pixels" >&2
	exit 2
	;;
esac

find_chromium() {
	if [ -n "${CHROMIUM:-}" ]; then
		echo "$CHROMIUM"
		return
	fi
	for b in chromium chromium-browser google-chrome google-chrome-stable; do
		if command -v "$b" >/dev/null 2>&1; then
			command -v "$b"
			return
		fi
	done
}

browser=$(find_chromium)
if [ -z "$browser" ]; then
	if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "$0: installing chromium (apt-get install chromium)" >&2
		export DEBIAN_FRONTEND=noninteractive
		apt-get install -y -q chromium >&2 || { apt-get update -q >&2 && apt-get install -y -q chromium >&2; }
		browser=$(find_chromium)
	fi
	if [ -z "$browser" ]; then
		echo "$0: no Chromium found; install it (Debian: apt-get install chromium) or set CHROMIUM" >&2
		exit 1
	fi
fi

abs_dir=$(cd "$dir" && pwd)
case $out in
/*) abs_out=$out ;;
*) abs_out=$(pwd)/$out ;;
esac

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT INT TERM

sandbox=
if [ "$(id -u)" -eq 0 ]; then
	sandbox=--no-sandbox # Chromium refuses to run as root with its sandbox
fi

rm -f "$abs_out"
# Chromium writes its progress chatter to stderr; keep it unless it fails.
log="$profile/chromium.log"
if ! "$browser" --headless $sandbox --disable-gpu --disable-quic --no-first-run \
	--disable-background-networking --disable-component-update --disable-sync \
	--hide-scrollbars --force-device-scale-factor=1 \
	--user-data-dir="$profile" --window-size="$width,$height" \
	--screenshot="$abs_out" "file://$abs_dir/report.html" >"$log" 2>&1; then
	cat "$log" >&2
	echo "$0: $browser failed" >&2
	exit 1
fi
if [ ! -s "$abs_out" ]; then
	cat "$log" >&2
	echo "$0: $browser wrote no screenshot" >&2
	exit 1
fi
echo "$abs_out"
