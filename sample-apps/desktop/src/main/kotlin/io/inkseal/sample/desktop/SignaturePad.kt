package io.inkseal.sample.desktop

import io.inkseal.Handwriting
import io.inkseal.InkPad
import io.inkseal.InkPoint
import io.inkseal.InkSegment
import io.inkseal.InksealException
import java.awt.BasicStroke
import java.awt.Dimension
import java.awt.Graphics
import java.awt.Graphics2D
import java.awt.RenderingHints
import java.awt.event.MouseAdapter
import java.awt.event.MouseEvent
import java.awt.geom.Ellipse2D
import java.awt.geom.Path2D
import javax.swing.JPanel
import javax.swing.SwingUtilities
import javax.swing.Timer
import kotlin.math.hypot

/**
 * The customer's signature pad: pointer samples go to [InkPad] in batches (as an Android app
 * feeds a MotionEvent's history), and the smoothed segments it returns are drawn as tapered
 * capsules (a disc at each end joined by the tangent quad) in [Palette.INK].
 *
 * The mouse and the scripted replay drive the same three calls, [penDown], [penMove] and
 * [penUp]; only the pressure differs (a mouse reports none, i.e. 0). Call on the EDT.
 */
class SignaturePad(
    private val padWidth: Int,
    private val padHeight: Int,
    private val dpi: Float,
    /** Told of errors (a rejected batch) and of every change of the ink. */
    private val onEvent: (message: String?) -> Unit,
) : JPanel() {
    private val pad = InkPad(padWidth.toFloat(), padHeight.toFloat(), dpi)
    private val strokes = mutableListOf<MutableList<InkSegment>>()
    private val pending = ArrayList<InkPoint>(BATCH)
    private val createdAt = System.currentTimeMillis()
    private var lastT = 0L
    private var down = false

    /** Leftover samples of a slow drag are flushed after at most this long. */
    private val flushTimer = Timer(FLUSH_MS) { flush() }.apply { isRepeats = false }

    companion object {
        /** Samples per addPoints call. */
        const val BATCH = 8
        const val FLUSH_MS = 24
        /** A mouse reports no pressure (the library treats 0 as "none"). */
        const val MOUSE_PRESSURE = 0f
    }

    init {
        preferredSize = Dimension(padWidth, padHeight)
        minimumSize = preferredSize
        maximumSize = preferredSize
        background = Palette.PAPER
        isOpaque = true
        val mouse = object : MouseAdapter() {
            override fun mousePressed(e: MouseEvent) {
                if (SwingUtilities.isLeftMouseButton(e)) penDown(e.x.toFloat(), e.y.toFloat(), e.`when` - createdAt, MOUSE_PRESSURE)
            }

            override fun mouseDragged(e: MouseEvent) {
                if (down) penMove(e.x.toFloat(), e.y.toFloat(), e.`when` - createdAt, MOUSE_PRESSURE)
            }

            override fun mouseReleased(e: MouseEvent) {
                if (down && SwingUtilities.isLeftMouseButton(e)) penUp(e.x.toFloat(), e.y.toFloat(), e.`when` - createdAt, MOUSE_PRESSURE)
            }
        }
        addMouseListener(mouse)
        addMouseMotionListener(mouse)
    }

    val strokeCount: Int get() = pad.strokeCount
    val segmentCount: Int get() = strokes.sumOf { it.size }

    /** Pen down at ([x], [y]) pad units, [tMs] after the pad was created. */
    fun penDown(x: Float, y: Float, tMs: Long, pressure: Float) {
        if (down) penUp(x, y, tMs, pressure)
        guarded { pad.beginStroke() } ?: return
        down = true
        strokes += mutableListOf<InkSegment>()
        queue(x, y, tMs, pressure)
    }

    fun penMove(x: Float, y: Float, tMs: Long, pressure: Float) {
        if (!down) return
        queue(x, y, tMs, pressure)
    }

    fun penUp(x: Float, y: Float, tMs: Long, pressure: Float) {
        if (!down) return
        queue(x, y, tMs, pressure)
        flush()
        down = false
        guarded { pad.endStroke() }?.let { strokes.lastOrNull()?.addAll(it) }
        // A stroke whose every batch was refused is not recorded by the pad: keep the screen in step.
        while (strokes.size > pad.strokeCount) strokes.removeAt(strokes.size - 1)
        repaint()
        onEvent(null)
    }

    fun undo() {
        if (down) return
        if (guarded { pad.undo() } == true && strokes.isNotEmpty()) strokes.removeAt(strokes.size - 1)
        repaint()
        onEvent(null)
    }

    fun clear() {
        if (down) return
        guarded { pad.clear() }
        strokes.clear()
        repaint()
        onEvent(null)
    }

    /** Quality-checks the ink (throws [InksealException.HandwritingRejected]). */
    fun finish(device: String): Handwriting = pad.finish(device)

    private fun queue(x: Float, y: Float, tMs: Long, pressure: Float) {
        // Times never go back (the library refuses that), and points stay on the pad.
        val t = maxOf(tMs, lastT)
        lastT = t
        pending += InkPoint(
            x = x.coerceIn(0f, padWidth.toFloat()),
            y = y.coerceIn(0f, padHeight.toFloat()),
            tMs = t.toUInt(),
            pressure = pressure,
        )
        if (pending.size >= BATCH) flush() else flushTimer.restart()
    }

    private fun flush() {
        flushTimer.stop()
        if (pending.isEmpty() || !down) return
        val batch = pending.toList()
        pending.clear()
        guarded { pad.addPoints(batch) }?.let { segments ->
            strokes.lastOrNull()?.addAll(segments)
            repaint()
        }
    }

    private inline fun <T> guarded(block: () -> T): T? =
        try {
            block()
        } catch (e: InksealException) {
            onEvent("signature pad: ${e.message}")
            null
        }

    override fun paintComponent(g: Graphics) {
        super.paintComponent(g)
        val g2 = g.create() as Graphics2D
        try {
            g2.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON)
            g2.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON)
            // The guide: a baseline and a hint, as on a paper form.
            g2.color = Palette.GUIDE
            g2.stroke = BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, floatArrayOf(6f, 5f), 0f)
            val baseline = padHeight - 34
            g2.drawLine(24, baseline, padWidth - 24, baseline)
            g2.font = g2.font.deriveFont(13f)
            g2.drawString("请在此签名  ·  sign here", 28, padHeight - 12)
            g2.color = Palette.INK
            for (stroke in strokes) for (s in stroke) fillCapsule(g2, s)
        } finally {
            g2.dispose()
        }
    }

    /** A disc of radius ra at a, one of radius rb at b, and the quad joining their sides. */
    private fun fillCapsule(g: Graphics2D, s: InkSegment) {
        g.fill(Ellipse2D.Float(s.ax - s.ra, s.ay - s.ra, 2 * s.ra, 2 * s.ra))
        g.fill(Ellipse2D.Float(s.bx - s.rb, s.by - s.rb, 2 * s.rb, 2 * s.rb))
        val dx = s.bx - s.ax
        val dy = s.by - s.ay
        val len = hypot(dx, dy)
        if (len < 1e-3f) return
        val nx = -dy / len
        val ny = dx / len
        val quad = Path2D.Float()
        quad.moveTo(s.ax + nx * s.ra, s.ay + ny * s.ra)
        quad.lineTo(s.bx + nx * s.rb, s.by + ny * s.rb)
        quad.lineTo(s.bx - nx * s.rb, s.by - ny * s.rb)
        quad.lineTo(s.ax - nx * s.ra, s.ay - ny * s.ra)
        quad.closePath()
        g.fill(quad)
    }
}
