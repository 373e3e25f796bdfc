package io.inkseal.sample.desktop

import java.awt.BorderLayout
import java.awt.Color
import java.awt.Dimension
import java.awt.Font
import java.awt.Graphics
import java.awt.Graphics2D
import java.awt.Rectangle
import java.awt.RenderingHints
import java.awt.image.BufferedImage
import javax.swing.BorderFactory
import javax.swing.JComponent
import javax.swing.JLabel
import javax.swing.JPanel
import javax.swing.JScrollPane
import javax.swing.JTextArea
import javax.swing.SwingConstants

/**
 * The right half of the window: the verdict banner, the signed page as rendered by
 * `pdftoppm`, the verification details, and an enlarged view of the signature on the page.
 */
class ResultPanel : JPanel(BorderLayout(8, 8)) {
    private val banner = JLabel("等待签署 · waiting for the signed contract", SwingConstants.CENTER)
    private val page = PageView()
    private val zoom = ZoomView()
    private val details = JTextArea()

    init {
        border = BorderFactory.createEmptyBorder(10, 4, 10, 10)
        banner.isOpaque = true
        banner.foreground = Color.WHITE
        banner.background = Palette.WAITING
        banner.preferredSize = Dimension(10, 56)
        banner.font = banner.font.deriveFont(Font.BOLD, 22f)
        details.isEditable = false
        details.lineWrap = true
        details.wrapStyleWord = true
        details.font = details.font.deriveFont(13f)
        details.text = "The signed page (pdftoppm), the verifier's verdict and the signature's details appear here."
        val middle = JPanel(BorderLayout(8, 0))
        middle.add(page, BorderLayout.CENTER)
        middle.add(JScrollPane(details).apply { preferredSize = Dimension(250, 10) }, BorderLayout.EAST)
        add(banner, BorderLayout.NORTH)
        add(middle, BorderLayout.CENTER)
        add(zoom, BorderLayout.SOUTH)
    }

    /** Shows a signed page, its verdict and details. */
    fun show(pageImage: BufferedImage, valid: Boolean, verdict: String, lines: List<String>) {
        banner.background = if (valid) Palette.VALID else Palette.INVALID
        banner.text = verdict
        val ink = InkLocator.find(pageImage)
        page.set(pageImage, ink)
        zoom.set(pageImage, ink)
        details.text = lines.joinToString("\n")
        details.caretPosition = 0
        revalidate()
        repaint()
    }

    /** Shows a failure without a page. */
    fun showFailure(message: String) {
        banner.background = Palette.INVALID
        banner.text = "失败 · FAILED"
        details.text = message
        repaint()
    }

    /** The page, scaled to fit, with a frame around the signature. */
    private class PageView : JComponent() {
        private var image: BufferedImage? = null
        private var ink: Rectangle? = null

        fun set(img: BufferedImage, inkBox: Rectangle?) {
            image = img
            ink = inkBox
            repaint()
        }

        init {
            preferredSize = Dimension(420, 594)
        }

        override fun paintComponent(g: Graphics) {
            val g2 = g as Graphics2D
            g2.color = Color(0xE4, 0xE6, 0xEA)
            g2.fillRect(0, 0, width, height)
            val img = image ?: run {
                g2.color = Color.GRAY
                g2.drawString("no page yet", 20, 30)
                return
            }
            val scale = minOf(width.toDouble() / img.width, height.toDouble() / img.height)
            val w = (img.width * scale).toInt()
            val h = (img.height * scale).toInt()
            val x = (width - w) / 2
            val y = (height - h) / 2
            g2.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BICUBIC)
            g2.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY)
            g2.drawImage(img, x, y, w, h, null)
            g2.color = Color(0x9A, 0xA0, 0xA6)
            g2.drawRect(x, y, w - 1, h - 1)
            ink?.let { r ->
                g2.color = Color(0xE6, 0x7E, 0x22)
                g2.drawRect(x + (r.x * scale).toInt() - 4, y + (r.y * scale).toInt() - 4, (r.width * scale).toInt() + 8, (r.height * scale).toInt() + 8)
            }
        }
    }

    /** The signature line of the page at full resolution: keyword, ink and label. */
    private class ZoomView : JComponent() {
        private var crop: BufferedImage? = null

        init {
            preferredSize = Dimension(10, 170)
        }

        fun set(img: BufferedImage, ink: Rectangle?) {
            crop = ink?.let {
                // The signature line: the keyword left of the ink, the label lines under it.
                val h = it.height + 80
                val w = minOf(img.width, h * 4)
                val x = (it.x + it.width + 40 - w).coerceIn(0, maxOf(0, img.width - w))
                val y = (it.y - 20).coerceIn(0, maxOf(0, img.height - h))
                img.getSubimage(x, y, minOf(w, img.width - x), minOf(h, img.height - y))
            }
            repaint()
        }

        override fun paintComponent(g: Graphics) {
            val g2 = g as Graphics2D
            g2.color = Color.WHITE
            g2.fillRect(0, 0, width, height)
            g2.color = Color(0x9A, 0xA0, 0xA6)
            g2.drawRect(0, 0, width - 1, height - 1)
            val c = crop ?: run {
                g2.drawString("the signature on the signed page, enlarged", 12, 24)
                return
            }
            val scale = minOf((width - 8).toDouble() / c.width, (height - 8).toDouble() / c.height)
            val w = (c.width * scale).toInt()
            val h = (c.height * scale).toInt()
            g2.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BICUBIC)
            g2.drawImage(c, (width - w) / 2, (height - h) / 2, w, h, null)
        }
    }
}

/** Finds the blue handwriting on a rendered page (the page's text is black or grey). */
object InkLocator {
    fun isInk(rgb: Int): Boolean {
        val r = rgb shr 16 and 0xFF
        val g = rgb shr 8 and 0xFF
        val b = rgb and 0xFF
        return b >= 80 && b - r >= 45 && b - g >= 25
    }

    /** The bounding box of the ink pixels, or null with fewer than [minPixels]. */
    fun find(img: BufferedImage, minPixels: Int = 40): Rectangle? {
        var minX = Int.MAX_VALUE
        var minY = Int.MAX_VALUE
        var maxX = -1
        var maxY = -1
        var n = 0
        for (y in 0 until img.height) for (x in 0 until img.width) {
            if (isInk(img.getRGB(x, y))) {
                n++
                if (x < minX) minX = x
                if (x > maxX) maxX = x
                if (y < minY) minY = y
                if (y > maxY) maxY = y
            }
        }
        return if (n < minPixels) null else Rectangle(minX, minY, maxX - minX + 1, maxY - minY + 1)
    }

    fun count(img: BufferedImage): Int {
        var n = 0
        for (y in 0 until img.height) for (x in 0 until img.width) if (isInk(img.getRGB(x, y))) n++
        return n
    }
}
