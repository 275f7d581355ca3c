#!/usr/bin/env bash
# Install the Debian packages Coauthor needs, only when one is missing (one dpkg-query when
# nothing is: `make run` stays quick).
#
#   scripts/system-deps.sh app    the runtime libraries of Qt's xcb (X11) and wayland platform
#                                 plugins, which PySide6's wheels do not carry (`make run`)
#   scripts/system-deps.sh        those, and what the tests use: Xvfb (the real app on a virtual
#                                 display), epubcheck with Java (EPUB validation) and pandoc
#                                 (the peer in bench/export.py), and the desktop's tools
#                                 that check `coauthor install-desktop` (`make test`)
set -euo pipefail
what=${1:-test}

# From `ldd` of PySide6/Qt/plugins/platforms/libqxcb.so and libqwayland.so, lib/libQt6XcbQpa,
# lib/libQt6WaylandClient and the xcb-gl / wayland shell plugins; xcb-cursor is loaded at run
# time ("xcb-cursor0 or libxcb-cursor0 is needed to load the Qt xcb platform plugin").
app=(
  libegl1 libgl1 libfontconfig1 libfreetype6 libdbus-1-3 libglib2.0-0
  libx11-6 libx11-xcb1 libxcb1 libxcb-cursor0 libxcb-glx0 libxcb-icccm4 libxcb-image0
  libxcb-keysyms1 libxcb-randr0 libxcb-render0 libxcb-render-util0 libxcb-shape0 libxcb-shm0
  libxcb-sync1 libxcb-util1 libxcb-xfixes0 libxcb-xinerama0 libxcb-xkb1
  libxkbcommon0 libxkbcommon-x11-0
  libwayland-client0 libwayland-cursor0 libwayland-egl1
  # WeasyPrint's text layout and font subsetting (the print PDF, coauthor/publish/pdf_export.py)
  libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0
  # Spell check (coauthor/core/spelling.py): Enchant, which pyenchant loads, over Hunspell,
  # the American English dictionary (tests/ui/test_spelling.py uses it) and the British one
  # (the sample book is in British English). Other languages: their hunspell-* packages
  # (hunspell-fr, hunspell-de-de...).
  libenchant-2-2 hunspell-en-us hunspell-en-gb
)
# desktop-file-utils, appstream, shared-mime-info, libglib2.0-bin (gio) and xdg-utils: the
# desktop's own tools, which tests/test_desktop.py runs on what `coauthor install-desktop` writes.
# chromium: the browser DAISY Ace checks EPUBs in (scripts/ace.sh; Ace itself also needs
# Node.js 20 or later with npm, which Debian 12's nodejs, 18, is not).
# poppler-utils: pdftotext, pdfinfo, pdffonts and pdftoppm, which tests/publish/test_pdf_export.py
# reads the print PDF with.
tests=(xvfb xauth x11-utils epubcheck pandoc poppler-utils
  desktop-file-utils appstream shared-mime-info libglib2.0-bin xdg-utils chromium)

case "$what" in
  app) needed=("${app[@]}") ;;
  test) needed=("${app[@]}" "${tests[@]}") ;;
  *) echo "usage: $0 [app|test]" >&2; exit 2 ;;
esac

if ! command -v dpkg-query >/dev/null; then
  echo "Not a Debian system: install the packages matching these Debian names yourself: ${needed[*]}" >&2
  exit 0
fi

installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${needed[@]}" 2>/dev/null | awk '/ install ok installed$/ {print $1}' || true)
missing=()
for pkg in "${needed[@]}"; do
  grep -qx -- "$pkg" <<<"$installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
