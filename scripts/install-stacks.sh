#!/usr/bin/env bash
# The two extra containerd/runsc stacks the tests also run on (README "Stacks"), unpacked
# under $STACKS_PREFIX/<name> (default /opt/shim-stacks):
#   trixie  Debian trixie's containerd and runsc
#   sid     Debian sid's containerd, with trixie's runsc (sid's runsc is not what users run)
# The system's packages never change: apt only downloads, through a private configuration
# whose sources are the machine's own Debian mirrors with other suite names, and `dpkg -x`
# unpacks. Signatures are checked as for the system's own sources (Signed-By the Debian
# archive keyring). Each stack gets a STAMP with its packages' versions; when every stamp is
# there, nothing else runs (milliseconds).
#   scripts/install-stacks.sh
#   STACKS_REFRESH=1 scripts/install-stacks.sh   # fetch the suites' current versions again
set -euo pipefail

PREFIX=${STACKS_PREFIX:-/opt/shim-stacks}
# name, then suite:package pairs to unpack into it.
STACKS=(
  "trixie trixie:containerd trixie:runsc"
  "sid sid:containerd trixie:runsc"
)
SUITES=(trixie sid)
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

missing=()
for stack in "${STACKS[@]}"; do
  name=${stack%% *}
  if [[ -n ${STACKS_REFRESH:-} || ! -s $PREFIX/$name/STAMP ]]; then
    missing+=("$stack")
  fi
done
((${#missing[@]} == 0)) && exit 0

if [[ $(id -u) -ne 0 ]]; then
  echo "install-stacks: must run as root to write $PREFIX" >&2
  exit 1
fi
for tool in apt-get dpkg-deb gpgv; do
  command -v "$tool" >/dev/null || { echo "install-stacks: $tool not found" >&2; exit 1; }
done
[[ -r $KEYRING ]] || { echo "install-stacks: no $KEYRING (debian-archive-keyring)" >&2; exit 1; }

# The mirrors of the machine's own release: every deb URI that serves its codename (not
# -updates or -security), from deb822 and one-line sources alike.
# shellcheck disable=SC1091
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[[ -n $codename ]] || { echo "install-stacks: no VERSION_CODENAME in /etc/os-release" >&2; exit 1; }
mirror_uris() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r $f ]] || continue
    # deb822: blank-line separated stanzas; keep URIs of stanzas with Types deb and the suite.
    awk -v suite="$codename" '
      function flush() { if (deb && has) print uris; deb = has = 0; uris = "" }
      /^[ \t]*$/ { flush(); next }
      /^#/ { next }
      tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
      tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == suite) has = 1 }
      tolower($1) == "uris:" { for (i = 2; i <= NF; i++) uris = uris " " $i }
      /^[Ee]nabled:[ \t]*[Nn]o/ { deb = 0 }
      END { flush() }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -r $f ]] || continue
    # one-line: deb [options] URI suite components...
    sed -E 's/\[[^]]*\]//' "$f" | awk -v suite="$codename" '$1 == "deb" && $3 == suite { print $2 }'
  done
}
read -r -a uris <<<"$(mirror_uris | tr '\n' ' ')"
((${#uris[@]} > 0)) || { echo "install-stacks: no deb source for $codename in /etc/apt" >&2; exit 1; }

# The date checks follow the machine's own apt policy: a mirror that serves a frozen snapshot
# has Release files past their Valid-Until, and the system then says Check-Valid-Until "false".
eval "$(apt-config shell check_valid_until Acquire::Check-Valid-Until check_date Acquire::Check-Date)"

work=$(mktemp -d /tmp/shim-stacks.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 0755 "$work" # apt downloads as _apt
mkdir -p "$work"/etc/{apt.conf.d,preferences.d,sources.list.d} "$work"/state/lists/partial \
  "$work"/cache/archives/partial
chown _apt "$work"/state/lists/partial "$work"/cache/archives/partial 2>/dev/null || true
: >"$work/etc/sources.list"
: >"$work/state/status" # an empty dpkg status: apt resolves nothing against the system's
cat >"$work/etc/sources.list.d/stacks.sources" <<EOF
Types: deb
URIs: ${uris[*]}
Suites: ${SUITES[*]}
Components: main
Signed-By: $KEYRING
EOF
# Nothing of the system's apt configuration is read (APT_CONFIG names ours, and its Dir::Etc
# points here): no hooks run, no lists or caches of the system's are touched.
cat >"$work/etc/apt.conf" <<EOF
Dir::Etc "$work/etc/";
Dir::Etc::main "/dev/null"; // this file is APT_CONFIG, read once
Dir::Etc::parts "apt.conf.d/";
Dir::Etc::sourcelist "sources.list";
Dir::Etc::sourceparts "sources.list.d/";
Dir::Etc::preferences "preferences";
Dir::Etc::preferencesparts "preferences.d/";
Dir::State "$work/state/";
Dir::State::status "$work/state/status";
Dir::Cache "$work/cache/";
APT::Architecture "$(dpkg --print-architecture)";
APT::Architectures { "$(dpkg --print-architecture)"; };
Acquire::Languages "none";
Acquire::Check-Valid-Until "${check_valid_until:-true}";
Acquire::Check-Date "${check_date:-true}";
Acquire::IndexTargets::deb::DEP-11::DefaultEnabled "false";
Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled "false";
Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled "false";
EOF
export APT_CONFIG=$work/etc/apt.conf

echo "install-stacks: fetching ${SUITES[*]} indexes from ${uris[*]}" >&2
apt-get update -q=2 -o APT::Update::Error-Mode=any
# apt-get download takes a package's version from the named suite, checks its hash against
# the signed index, and writes it into the current directory.
declare -A deb_of
for stack in "${missing[@]}"; do
  for item in ${stack#* }; do
    [[ -n ${deb_of[$item]:-} ]] && continue
    suite=${item%%:*} pkg=${item#*:}
    mkdir -p "$work/debs/$suite"
    chown _apt "$work/debs/$suite" 2>/dev/null || true
    (cd "$work/debs/$suite" && apt-get download -q=2 "$pkg/$suite")
    deb_of[$item]=$(ls "$work/debs/$suite/${pkg}"_*.deb)
  done
done

mkdir -p "$PREFIX"
for stack in "${missing[@]}"; do
  name=${stack%% *}
  tmp=$PREFIX/.$name.new
  rm -rf "$tmp"
  mkdir -p "$tmp"
  : >"$tmp/STAMP.new"
  for item in ${stack#* }; do
    deb=${deb_of[$item]}
    dpkg-deb -x "$deb" "$tmp"
    printf '%s %s %s %s\n' "$(dpkg-deb -f "$deb" Package)" "$(dpkg-deb -f "$deb" Version)" \
      "${item%%:*}" "$(sha256sum "$deb" | cut -d' ' -f1)" >>"$tmp/STAMP.new"
  done
  # The stamp is the last thing written, so a half-unpacked stack never counts as present.
  mv "$tmp/STAMP.new" "$tmp/STAMP"
  rm -rf "${PREFIX:?}/$name"
  mv "$tmp" "$PREFIX/$name"
  echo "install-stacks: $PREFIX/$name: $(awk '{printf "%s%s=%s", NR > 1 ? " " : "", $1, $2}' "$PREFIX/$name/STAMP")" >&2
done
