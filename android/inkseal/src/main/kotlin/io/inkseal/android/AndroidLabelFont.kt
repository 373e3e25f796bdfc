// The label font of Android apps: android.graphics draws the text, the library receives its
// outline. Needs android.graphics, so only Gradle compiles this file (the desktop JVM tests use
// io.inkseal.JvmLabelFont, the same idea on java.awt).
package io.inkseal.android

import android.graphics.Paint
import android.graphics.Path
import android.graphics.PathIterator
import android.graphics.Typeface
import android.os.Build
import io.inkseal.LabelFont
import io.inkseal.ffi.OutlineSegment
import io.inkseal.TextOutline
import io.inkseal.ffi.HookException
import java.text.BreakIterator

/**
 * Draws signature labels (signer name, date) as outlines with the platform's fonts (by
 * default the system's CJK fallback chain, so Chinese names render), so the PDF holds paths
 * and every viewer shows the same label with no font of its own.
 *
 * The paint's text size is one em ([EM] pixels), and coordinates are divided by it; y is
 * negated (Android's points down). Android 14+ hands over exact curves (`PathIterator`);
 * older versions a fine polyline (`Path.approximate`, a hundredth of an em).
 */
class AndroidLabelFont(typeface: Typeface = Typeface.DEFAULT) : LabelFont {
    private val paint = Paint(Paint.ANTI_ALIAS_FLAG).apply {
        this.typeface = typeface
        textSize = EM
    }

    @Synchronized // one Paint, and signing may run on any thread
    override fun outline(text: String): TextOutline? {
        if (!drawable(text)) return null
        val path = Path()
        paint.getTextPath(text, 0, text.length, 0f, 0f, path)
        val segments = if (Build.VERSION.SDK_INT >= 34) exact(path) else approximated(path)
        return TextOutline(paint.measureText(text).toDouble() / EM, segments)
    }

    /** Whether the typeface (or its fallback chain) has a glyph for every grapheme cluster:
     *  `Paint.hasGlyph` answers for one cluster (a character or a ligature), not a line. */
    private fun drawable(text: String): Boolean {
        val clusters = BreakIterator.getCharacterInstance().apply { setText(text) }
        var start = clusters.first()
        var end = clusters.next()
        while (end != BreakIterator.DONE) {
            val cluster = text.substring(start, end)
            if (!cluster.isBlank() && !paint.hasGlyph(cluster)) return false
            start = end
            end = clusters.next()
        }
        return true
    }

    private fun p(x: Float, y: Float) = doubleArrayOf(x.toDouble() / EM, -y.toDouble() / EM)

    private fun exact(path: Path): List<OutlineSegment> {
        val out = mutableListOf<OutlineSegment>()
        val verbs = path.pathIterator
        val c = FloatArray(8)
        while (verbs.hasNext()) {
            when (verbs.next(c, 0)) {
                PathIterator.VERB_MOVE -> p(c[0], c[1]).let { out += OutlineSegment.MoveTo(it[0], it[1]) }
                PathIterator.VERB_LINE -> p(c[2], c[3]).let { out += OutlineSegment.LineTo(it[0], it[1]) }
                PathIterator.VERB_QUAD -> {
                    val (q, e) = p(c[2], c[3]) to p(c[4], c[5])
                    out += OutlineSegment.QuadTo(q[0], q[1], e[0], e[1])
                }
                PathIterator.VERB_CUBIC -> {
                    val (a, b, e) = Triple(p(c[2], c[3]), p(c[4], c[5]), p(c[6], c[7]))
                    out += OutlineSegment.CubicTo(a[0], a[1], b[0], b[1], e[0], e[1])
                }
                PathIterator.VERB_CLOSE -> out += OutlineSegment.Close
                PathIterator.VERB_DONE -> {}
                // Glyph outlines hold no conics; one would be drawn wrong, so refuse it.
                else -> throw HookException.Failed("unexpected path verb in a glyph outline")
            }
        }
        return out
    }

    private fun approximated(path: Path): List<OutlineSegment> {
        // [fraction, x, y] triples; a contour starts where the fraction repeats. A zero-length
        // piece also repeats it and so starts a needless contour: its extra edges cancel out
        // under the nonzero winding rule the library fills with, so the shape is unchanged.
        val a = path.approximate(EM / 100f)
        val out = mutableListOf<OutlineSegment>()
        var i = 0
        while (i + 2 < a.size) {
            val q = p(a[i + 1], a[i + 2])
            val starts = i == 0 || a[i] == a[i - 3]
            if (starts && i > 0) out += OutlineSegment.Close
            out += if (starts) OutlineSegment.MoveTo(q[0], q[1]) else OutlineSegment.LineTo(q[0], q[1])
            i += 3
        }
        if (out.isNotEmpty()) out += OutlineSegment.Close
        return out
    }

    private companion object {
        const val EM = 100f
    }
}
