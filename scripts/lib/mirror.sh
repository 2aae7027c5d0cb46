# shellcheck shell=sh
# The host's Debian mirror, sourced by the scripts that need one
# (scripts/build-dom0: debootstrap and the dom0's own sources.list).
#
# The mirror is the host's own, read from its apt configuration, never a
# default written into pvboot: a host that has to use a local mirror or a
# proxy has it there, and a host with no Debian source fails with one line
# that says so.  Read, in apt's order:
#
#   $PVBOOT_APT_ETC/sources.list                  one-line format
#   $PVBOOT_APT_ETC/sources.list.d/*.list         one-line format
#   $PVBOOT_APT_ETC/sources.list.d/*.sources      deb822 format
#
# PVBOOT_APT_ETC (default /etc/apt) is there for tests/scripts/mirror_test.sh,
# which points it at made-up configurations.
#
# The first enabled binary ("deb") source that lists SUITE among its suites
# and "main" among its components is taken; a host also has sources for
# other software (other suites, other components), which do not match.
# Only URIs debootstrap and the dom0's apt can both fetch from count: http
# and https, and a "mirror+file:" list (as Debian's cloud images have), of
# which the first http(s) mirror is taken.  A file: URI names a directory
# of this host that the dom0's root would not have.

# apt_source_uri SUITE: print that source's URI, without a trailing slash;
# print nothing and return 1 when there is none.  A Debian mirror serves
# every suite, so when no source lists SUITE itself, the host's source of
# the same kind stands in: for SUITE-security one that lists any
# "-security" suite, for a release (bullseye, trixie) one that lists a
# release, a suite without a "-" (bookworm).  That is how pvboot reaches
# the suites of the Xen releases it boots (4.14: bullseye, 4.20: trixie)
# from a host that lists only its own.
apt_source_uri() {
	_apt_source_uri "$1" exact || _apt_source_uri "$1" kind
}

_apt_source_uri() {
	_etc=${PVBOOT_APT_ETC:-/etc/apt}
	_suite=$1
	_match=$2
	set -- "$_etc/sources.list"
	for _f in "$_etc"/sources.list.d/*; do
		case $_f in *.list | *.sources) set -- "$@" "$_f" ;; esac
	done
	_uri=$(for _f in "$@"; do
		if [ ! -f "$_f" ] || [ ! -r "$_f" ]; then
			continue
		fi
		_deb822=0
		case $_f in *.sources) _deb822=1 ;; esac
		# One file at a time, so that nothing of one file's last
		# paragraph or line carries over to the next file.
		awk -v suite="$_suite" -v match_kind="$_match" -v deb822="$_deb822" '
			function has(list, word,   n, i, a) {
				n = split(list, a, /[ \t]+/)
				for (i = 1; i <= n; i++)
					if (a[i] == word)
						return 1
				return 0
			}
			# SUITE itself, or (match_kind "kind") a suite of its kind.
			function suite_ok(s) {
				if (s == suite)
					return 1
				if (match_kind != "kind")
					return 0
				if (suite ~ /-security$/)
					return s ~ /-security$/
				return suite !~ /-/ && s !~ /-/ && s != ""
			}
			function has_suite(list,   n, i, a) {
				n = split(list, a, /[ \t]+/)
				for (i = 1; i <= n; i++)
					if (suite_ok(a[i]))
						return 1
				return 0
			}
			# A mirror+file: list, one mirror a line (with tab-separated
			# priorities): its first http(s) mirror, or "".
			function from_list(uri,   path, line, a) {
				path = uri
				sub(/^mirror\+file:(\/\/)?/, "", path)
				while ((getline line < path) > 0) {
					split(line, a, /[ \t]+/)
					if (a[1] ~ /^https?:\/\//) {
						close(path)
						return a[1]
					}
				}
				close(path)
				return ""
			}
			function usable(uri) {
				if (uri ~ /^mirror\+file:/)
					return from_list(uri) != ""
				return uri ~ /^https?:\/\//
			}
			function found(uri) {
				if (uri ~ /^mirror\+file:/)
					uri = from_list(uri)
				sub(/\/+$/, "", uri)
				print uri
				done = 1
				exit
			}
			# deb822: paragraphs of "Field: value" lines, a value may go on
			# in lines that start with white space.
			function paragraph(   n, i, a) {
				if (has(f["types"], "deb") && tolower(f["enabled"]) != "no" &&
				    has_suite(f["suites"]) && has(f["components"], "main")) {
					n = split(f["uris"], a, /[ \t]+/)
					for (i = 1; i <= n; i++)
						if (usable(a[i]))
							found(a[i])
				}
				delete f
			}
			{ sub(/\r$/, "") }
			deb822 && /^#/ { next }
			deb822 && /^[ \t]*$/ { paragraph(); key = ""; next }
			deb822 && /^[ \t]/ { if (key != "") f[key] = f[key] " " $0; next }
			deb822 {
				key = tolower($0)
				sub(/:.*/, "", key)
				v = $0
				sub(/^[^:]*:[ \t]*/, "", v)
				f[key] = v
				next
			}
			# One-line: deb [ options ] uri suite component...
			{
				sub(/#.*/, "")
				if ($1 != "deb")
					next
				i = 2
				if ($i ~ /^\[/) {
					while (i <= NF && $i !~ /\]$/)
						i++
					i++
				}
				if (i + 2 > NF || !usable($i) || !suite_ok($(i + 1)))
					next
				for (j = i + 2; j <= NF; j++)
					if ($j == "main")
						found($i)
			}
			END { if (deb822 && !done) paragraph() }
			' "$_f"
	done | head -n 1)
	[ -n "$_uri" ] || return 1
	printf '%s\n' "$_uri"
}

# debian_mirror SCRIPT SUITE: apt_source_uri SUITE, or the one-line error,
# naming SCRIPT, and status 1.
debian_mirror() {
	if apt_source_uri "$2"; then
		return 0
	fi
	_etc=${PVBOOT_APT_ETC:-/etc/apt}
	echo "pvboot: $1: no Debian mirror in the host's apt configuration ($_etc/sources.list, $_etc/sources.list.d)" >&2
	return 1
}
