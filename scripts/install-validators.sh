#!/usr/bin/env bash
# Installs the independent PDF-signature validators that tests/src/validators.rs runs:
# poppler's pdfsig, qpdf, a JDK with BouncyCastle (tests/validators/PdfSigCheck.java) and pyHanko;
# and the HTTP Message Signatures library core/httpsig/tests/interop.rs checks its headers against.
# Idempotent: installs only what is missing. Meant for a fresh Debian 12 machine, as root.
# Usage: scripts/install-validators.sh
set -euo pipefail

# The version the validator tests were written against; its text output is parsed.
PYHANKO_CLI_VERSION=0.6.0
# The version core/httpsig/tests/interop.py was written against (it orders signature params
# created;keyid;alg;nonce, unlike inkseal, which the interop test relies on).
HTTP_MESSAGE_SIGNATURES_VERSION=3.0.0

need_pkgs=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'; }
command -v pdfsig >/dev/null 2>&1 || need_pkgs+=(poppler-utils)
command -v qpdf >/dev/null 2>&1 || need_pkgs+=(qpdf)
# Ghostscript: the second renderer the seal golden images are checked with.
command -v gs >/dev/null 2>&1 || need_pkgs+=(ghostscript)
command -v openssl >/dev/null 2>&1 || need_pkgs+=(openssl)
# javac 17 on Debian 12 comes from openjdk-17-jdk-headless (default-jdk-headless depends on it).
command -v javac >/dev/null 2>&1 || need_pkgs+=(openjdk-17-jdk-headless)
# poppler-data lets pdftoppm render the Adobe CJK fonts (STSong-Light) of signature labels.
# fonts-wqy-microhei gives poppler a font to substitute for STSong-Light on Linux, and is the
# font seal text is drawn from (Apache-2.0: its outlines may be embedded as paths).
# libpdfbox2-java: Apache PDFBox 2, which signs the test PDFs other products would
# (tests/validators/MakePdfboxSample.java).
# libreoffice-writer-nogui and libnss3-tools: LibreOffice signs a PDF at export with a key in an
# NSS database (tests/tests/other_signers.rs), as an office user's signature would arrive.
command -v soffice >/dev/null 2>&1 || need_pkgs+=(libreoffice-writer-nogui)
command -v pk12util >/dev/null 2>&1 || need_pkgs+=(libnss3-tools)
for p in libbcprov-java libbcpkix-java libbcutil-java libpdfbox2-java poppler-data fonts-wqy-microhei; do
    have_pkg "$p" || need_pkgs+=("$p")
done

if [ ${#need_pkgs[@]} -gt 0 ]; then
    echo "install-validators: installing Debian packages: ${need_pkgs[*]}"
    if [ "$(id -u)" -ne 0 ]; then
        echo "install-validators: need root to install ${need_pkgs[*]} (or install them yourself)" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}"
else
    echo "install-validators: Debian packages already present"
fi

if ! command -v pyhanko >/dev/null 2>&1; then
    echo "install-validators: installing pyhanko-cli==$PYHANKO_CLI_VERSION with pip"
    python3 -m pip install --quiet "pyhanko-cli==$PYHANKO_CLI_VERSION"
    # pyenv puts new console scripts on PATH only after a rehash.
    if command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi
else
    echo "install-validators: pyhanko already present: $(pyhanko --version 2>&1 | head -n1)"
fi

if ! python3 -c 'import http_message_signatures' >/dev/null 2>&1; then
    echo "install-validators: installing http-message-signatures==$HTTP_MESSAGE_SIGNATURES_VERSION with pip"
    python3 -m pip install --quiet "http-message-signatures==$HTTP_MESSAGE_SIGNATURES_VERSION"
else
    echo "install-validators: http-message-signatures already present: $(python3 -m pip show http-message-signatures 2>/dev/null | sed -n 's/^Version: //p')"
fi
