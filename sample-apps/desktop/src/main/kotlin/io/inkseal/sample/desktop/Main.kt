package io.inkseal.sample.desktop

import io.inkseal.Inkseal
import java.awt.Dimension
import java.awt.GraphicsEnvironment
import java.awt.Rectangle
import java.awt.Toolkit
import java.io.File
import java.nio.file.Files
import javax.swing.SwingUtilities
import kotlin.system.exitProcess
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeout

/** The window's size; the screenshot check expects exactly this. */
val WINDOW = Dimension(1360, 860)

fun main(args: Array<String>) {
    val options = try {
        parseArgs(args)
    } catch (e: IllegalArgumentException) {
        System.err.println("desktop-sample: ${e.message}\n\n$USAGE")
        exitProcess(2)
    }
    options["check-screenshot"]?.let { path ->
        val expected = options["expect-size"]?.let { parseSize(it) }
        val report = checkScreenshot(File(path), expected)
        println("desktop-sample: screenshot $path: $report")
        exitProcess(if (report.problems.isEmpty()) 0 else 1)
    }
    val config = try {
        configOf(options)
    } catch (e: IllegalArgumentException) {
        System.err.println("desktop-sample: ${e.message}\n\n$USAGE")
        exitProcess(2)
    }
    if (GraphicsEnvironment.isHeadless()) {
        System.err.println("desktop-sample: no display (DISPLAY unset or java.awt.headless); run it under xvfb-run")
        exitProcess(2)
    }
    config.library?.let { Inkseal.init(it) }
    if (config.scripted != null) exitProcess(runScripted(config)) else runInteractive(config)
}

private fun padSpec(strokes: StrokesFile?): Triple<Int, Int, Float> =
    strokes?.let { Triple(it.width.toInt(), it.height.toInt(), it.dpi) } ?: Triple(600, 240, 160f)

private fun openWindow(config: SampleConfig, strokes: StrokesFile?): LoanOfficerWindow {
    lateinit var window: LoanOfficerWindow
    SwingUtilities.invokeAndWait {
        val family = installCjkFont()
        val (w, h, dpi) = padSpec(strokes)
        window = LoanOfficerWindow(config, w, h, dpi)
        window.size = WINDOW
        window.setLocation(0, 0)
        window.isVisible = true
        window.log("UI font: $family")
    }
    return window
}

private fun runInteractive(config: SampleConfig) {
    val window = openWindow(config, null)
    // The library's own threads must not keep the JVM alive once the officer closes the window.
    SwingUtilities.invokeLater { window.defaultCloseOperation = javax.swing.WindowConstants.EXIT_ON_CLOSE }
}

/**
 * The unattended flow: enroll with the ticket, verify identity, replay the strokes through the
 * pad, prepare, capture liveness bound to the contract, sign, verify, show the page,
 * screenshot, check it. Returns the exit code.
 */
private fun runScripted(config: SampleConfig): Int {
    val strokes = StrokesFile.load(config.scripted!!)
    val window = openWindow(config, strokes)
    val started = System.nanoTime()
    return try {
        runBlocking {
            withTimeout(240_000) {
                window.enroll()
                window.verifyIdentity()
                replay(window, strokes)
                val signed = window.signContract()
                withContext(Edt) { window.log("flow done in ${(System.nanoTime() - started) / 1_000_000} ms") }
                config.screenshot?.let { shot ->
                    settle()
                    val bounds = withContext(Edt) { Rectangle(window.locationOnScreen, window.size) }
                    captureScreen(bounds, shot)
                    val report = checkScreenshot(shot, WINDOW)
                    println("desktop-sample: screenshot $shot: $report")
                    if (report.problems.isNotEmpty()) throw SampleFailure("the screenshot check failed: ${report.problems.joinToString("; ")}")
                }
                if (!signed.valid) throw SampleFailure("the signed contract did not verify: ${signed.verification}")
                println("desktop-sample: OK: ${signed.file} (valid), page image ${signed.pageImage}")
            }
        }
        0
    } catch (e: Throwable) {
        val text = window.explain(e)
        System.err.println("desktop-sample: FAILED: $text")
        if (e !is SampleFailure) e.printStackTrace()
        // Leave what the window showed, for the diagnosis.
        config.screenshot?.let { shot ->
            runCatching {
                SwingUtilities.invokeAndWait { window.log("✘ $text") }
                val failed = File(shot.parentFile, shot.nameWithoutExtension + ".failed.png")
                captureScreen(Rectangle(window.locationOnScreen, window.size), failed)
                System.err.println("desktop-sample: the window at the failure: $failed")
            }
        }
        1
    } finally {
        SwingUtilities.invokeAndWait { window.close() }
    }
}

/**
 * Replays the recorded strokes through the pad's pen calls (those the mouse drives), on the
 * EDT, at four times the recorded speed so that the ink appears as it was written.
 */
private suspend fun replay(window: LoanOfficerWindow, strokes: StrokesFile) {
    val t0 = strokes.strokes.first().first().tMs
    val wall0 = System.nanoTime()
    withContext(Edt) { window.log("replaying ${strokes.strokes.size} strokes, ${strokes.pointCount} points (${strokes.signer ?: "?"})") }
    for (stroke in strokes.strokes) {
        stroke.forEachIndexed { i, p ->
            val due = (p.tMs - t0) / 4
            val now = (System.nanoTime() - wall0) / 1_000_000
            if (due > now) delay(due - now)
            withContext(Edt) {
                val t = p.tMs - t0
                when (i) {
                    0 -> window.pad.penDown(p.x, p.y, t, p.pressure)
                    stroke.size - 1 -> window.pad.penUp(p.x, p.y, t, p.pressure)
                    else -> window.pad.penMove(p.x, p.y, t, p.pressure)
                }
            }
        }
        if (stroke.size == 1) withContext(Edt) { window.pad.penUp(stroke[0].x, stroke[0].y, stroke[0].tMs - t0, stroke[0].pressure) }
    }
    withContext(Edt) {
        if (window.pad.strokeCount != strokes.strokes.size) {
            throw SampleFailure("the pad recorded ${window.pad.strokeCount} strokes of ${strokes.strokes.size}")
        }
        window.log("signature drawn: ${window.pad.strokeCount} strokes, ${window.pad.segmentCount} segments on screen")
    }
}

/** Lets Swing and the X server finish painting before the capture. */
private suspend fun settle() {
    repeat(2) { SwingUtilities.invokeAndWait { } }
    Toolkit.getDefaultToolkit().sync()
    delay(700)
    SwingUtilities.invokeAndWait { }
}

private val VALUED = setOf(
    "server", "institution-key", "contract", "keyword", "page", "out", "ticket", "name", "pin",
    "library", "scripted", "screenshot", "check-screenshot", "expect-size",
)

private fun parseArgs(args: Array<String>): Map<String, String> {
    val out = LinkedHashMap<String, String>()
    var i = 0
    while (i < args.size) {
        val a = args[i++]
        if (a == "-h" || a == "--help") {
            println(USAGE)
            exitProcess(0)
        }
        val name = a.removePrefix("--")
        when {
            !a.startsWith("--") -> throw IllegalArgumentException("unexpected argument $a")
            name in VALUED -> out[name] = args.getOrNull(i++) ?: throw IllegalArgumentException("$a needs a value")
            else -> throw IllegalArgumentException("unknown option $a")
        }
    }
    return out
}

private fun parseSize(s: String): Dimension {
    val m = Regex("(\\d+)x(\\d+)").matchEntire(s) ?: throw IllegalArgumentException("--expect-size WxH, not $s")
    return Dimension(m.groupValues[1].toInt(), m.groupValues[2].toInt())
}

private fun configOf(o: Map<String, String>): SampleConfig {
    val key = File(o["institution-key"] ?: throw IllegalArgumentException("--institution-key PEM is required"))
    if (!key.isFile) throw IllegalArgumentException("$key does not exist")
    val contract = File(o["contract"] ?: "tests/data/loan-contract-zh.pdf")
    if (!contract.isFile) throw IllegalArgumentException("the contract $contract does not exist (--contract)")
    val scripted = o["scripted"]?.let(::File)
    if (scripted != null && !scripted.isFile) throw IllegalArgumentException("$scripted does not exist")
    if (o["screenshot"] != null && scripted == null) throw IllegalArgumentException("--screenshot needs --scripted")
    val out = o["out"]?.let(::File) ?: Files.createTempDirectory("inkseal-desktop-sample").toFile()
    out.mkdirs()
    val signer = scripted?.let { runCatching { StrokesFile.load(it).signer }.getOrNull() }
    return SampleConfig(
        serverUrl = o["server"] ?: "http://127.0.0.1:8440",
        institutionKey = key,
        contract = contract,
        keyword = o["keyword"] ?: "借款人（签字）：",
        page = o["page"]?.toIntOrNull()?.takeIf { it >= 1 } ?: if (o["page"] == null) 3 else throw IllegalArgumentException("--page N (1-based)"),
        outDir = out,
        ticket = o["ticket"] ?: System.getenv("INKSEAL_TICKET")?.takeIf { it.isNotBlank() },
        customerName = o["name"] ?: signer ?: "张三",
        pin = o["pin"] ?: "246810",
        scripted = scripted,
        screenshot = o["screenshot"]?.let(::File),
        library = o["library"]?.let(::File),
    )
}
