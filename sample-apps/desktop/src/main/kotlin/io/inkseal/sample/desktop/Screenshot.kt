package io.inkseal.sample.desktop

import java.awt.Dimension
import java.awt.Rectangle
import java.awt.Robot
import java.awt.image.BufferedImage
import java.io.File
import javax.imageio.ImageIO

/** Captures [bounds] of the screen into [file] (PNG). Call off the EDT. */
fun captureScreen(bounds: Rectangle, file: File) {
    val robot = Robot()
    robot.waitForIdle()
    val image = robot.createScreenCapture(bounds)
    file.absoluteFile.parentFile.mkdirs()
    if (!ImageIO.write(image, "png", file)) throw SampleFailure("no PNG writer")
}

/** What [checkScreenshot] measured. */
data class ScreenshotReport(
    val width: Int,
    val height: Int,
    /** Share of pixels in the most common colour (a blank capture is ~1.0). */
    val dominantShare: Double,
    val distinctColours: Int,
    /** Pixels of exactly the pad's ink colour. */
    val padInkPixels: Int,
    /** Pixels of exactly the "valid" banner colour. */
    val validBannerPixels: Int,
    /** Blue handwriting pixels anywhere (the rendered signed page and its enlargement). */
    val pageInkPixels: Int,
    val problems: List<String>,
) {
    override fun toString() =
        "${width}x$height, dominant colour ${"%.1f".format(dominantShare * 100)}%, $distinctColours colours, " +
            "pad ink $padInkPixels px, valid banner $validBannerPixels px, ink-blue $pageInkPixels px" +
            if (problems.isEmpty()) "" else "; problems: ${problems.joinToString("; ")}"
}

/**
 * Checks a screenshot of the finished flow: a PNG of [expected] size (when given), not blank,
 * with the signature drawn on the pad, the blue handwriting on the rendered page, and the green
 * "valid" banner.
 */
fun checkScreenshot(file: File, expected: Dimension?): ScreenshotReport {
    val bytes = file.takeIf { it.isFile }?.readBytes() ?: throw SampleFailure("$file does not exist")
    val magic = byteArrayOf(0x89.toByte(), 'P'.code.toByte(), 'N'.code.toByte(), 'G'.code.toByte(), 0x0D, 0x0A, 0x1A, 0x0A)
    if (bytes.size < 8 || !bytes.copyOf(8).contentEquals(magic)) throw SampleFailure("$file is not a PNG")
    val img: BufferedImage = ImageIO.read(file) ?: throw SampleFailure("$file cannot be decoded")
    val counts = HashMap<Int, Int>()
    var padInk = 0
    var valid = 0
    var blue = 0
    val ink = Palette.INK.rgb and 0xFFFFFF
    val green = Palette.VALID.rgb and 0xFFFFFF
    for (y in 0 until img.height) for (x in 0 until img.width) {
        val rgb = img.getRGB(x, y) and 0xFFFFFF
        counts.merge(rgb, 1, Int::plus)
        if (rgb == ink) padInk++
        if (rgb == green) valid++
        if (InkLocator.isInk(rgb)) blue++
    }
    val total = img.width * img.height
    val dominant = (counts.values.maxOrNull() ?: 0).toDouble() / total
    val problems = buildList {
        if (expected != null && (img.width != expected.width || img.height != expected.height)) {
            add("size ${img.width}x${img.height}, expected ${expected.width}x${expected.height}")
        }
        if (dominant > 0.85) add("nearly blank (one colour covers ${"%.0f".format(dominant * 100)}%)")
        if (counts.size < 64) add("only ${counts.size} colours")
        if (padInk < 150) add("no signature on the pad ($padInk ink pixels)")
        if (valid < 5_000) add("no green \"valid\" banner ($valid pixels)")
        // The pad's ink is blue too: the page and its enlargement must add clearly more.
        if (blue - padInk < 400) add("no handwriting visible on the signed page (${blue - padInk} blue pixels besides the pad)")
    }
    return ScreenshotReport(img.width, img.height, dominant, counts.size, padInk, valid, blue, problems)
}
