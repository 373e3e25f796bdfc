package io.inkseal.sample.desktop

import java.io.File

/** What the command line chose (see [USAGE]). */
data class SampleConfig(
    val serverUrl: String,
    val institutionKey: File,
    val contract: File,
    val keyword: String,
    val page: Int,
    val outDir: File,
    /** The enrollment ticket the bank's backend issued (--ticket, else $INKSEAL_TICKET). */
    val ticket: String?,
    val customerName: String,
    val pin: String,
    val scripted: File?,
    val screenshot: File?,
    val library: File?,
)

/** A failure the sample itself detected, in words for the officer. */
class SampleFailure(message: String) : Exception(message)

const val USAGE = """inkseal desktop sample: the loan officer's flow (enroll, verify identity, the customer signs, sign the contract, verify)

  java ... io.inkseal.sample.desktop.MainKt --institution-key PEM [options]

  --server URL              co-signing server (default http://127.0.0.1:8440)
  --institution-key PEM     the institution's public key (SM2 or P-256 PEM) the handwriting is sealed to
  --contract PDF            the contract (default tests/data/loan-contract-zh.pdf)
  --keyword TEXT            where the signature goes (default 借款人（签字）：)
  --page N                  the keyword's page, also the page shown (default 3)
  --out DIR                 device shares and keys, capture sample folder, signed PDF, page image (default: a new temp dir)
  --ticket TICKET           the enrollment ticket (et-...) the bank's backend issued for the customer
                            (default: the environment variable INKSEAL_TICKET, which keeps it out of `ps`)
  --name NAME               the customer's name under the ink (default 张三, or the strokes file's "signer")
  --pin PIN                 the customer's PIN (default 246810)
  --library FILE            libinkseal_ffi.so to load with System.load (default: JNA finds it on jna.library.path)
  --scripted STROKES.json   run the whole flow unattended, replaying the strokes through the pad
  --screenshot FILE.png     (with --scripted) capture the window once the signed page is shown
  --check-screenshot FILE.png [--expect-size WxH]
                            check a screenshot (size, not blank, ink and a "valid" banner) and exit"""
