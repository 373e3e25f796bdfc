// The label font of desktop JVMs (and the JVM tests): java.awt's font engine. Android apps use
// io.inkseal.android.AndroidLabelFont instead (android.graphics has no java.awt).
package io.inkseal

import io.inkseal.ffi.HookException
import io.inkseal.ffi.OutlineSegment
import java.awt.Font
import java.awt.font.FontRenderContext
import java.awt.geom.AffineTransform
import java.awt.geom.PathIterator
import java.io.File

/**
 * Draws signature labels (signer name, date) as outlines with a java.awt [Font]: the PDF then
 * holds paths, so every viewer shows the label the same way, with no font needed.
 *
 * Coordinates are divided by the size the font is laid out at, so the outline comes out in
 * ems, as the library expects; y is negated (AWT's y points down, PDF's up). Text the font lacks a glyph for (per
 * [Font.canDisplayUpTo]) is refused, so a label never shows empty boxes.
 */
class JvmLabelFont(font: Font) : LabelFont {
    // Laid out at EM points and scaled down: some font scalers round outline points to 1/64
    // of a unit, which at one point per em would be a visible 1/64 em.
    private val font: Font = font.deriveFont(EM.toFloat())
    private val context = FontRenderContext(AffineTransform(), true, true)

    override fun outline(text: String): TextOutline? {
        if (font.canDisplayUpTo(text) != -1) return null
        val glyphs = try {
            font.createGlyphVector(context, text)
        } catch (e: RuntimeException) {
            throw HookException.Failed("java.awt could not lay out the label: ${e.message}")
        }
        val segments = mutableListOf<OutlineSegment>()
        val it = glyphs.outline.getPathIterator(null)
        val c = DoubleArray(6)
        while (!it.isDone) {
            segments += when (it.currentSegment(c)) {
                PathIterator.SEG_MOVETO -> OutlineSegment.MoveTo(c[0] / EM, -c[1] / EM)
                PathIterator.SEG_LINETO -> OutlineSegment.LineTo(c[0] / EM, -c[1] / EM)
                PathIterator.SEG_QUADTO -> OutlineSegment.QuadTo(c[0] / EM, -c[1] / EM, c[2] / EM, -c[3] / EM)
                PathIterator.SEG_CUBICTO ->
                    OutlineSegment.CubicTo(c[0] / EM, -c[1] / EM, c[2] / EM, -c[3] / EM, c[4] / EM, -c[5] / EM)
                else -> OutlineSegment.Close
            }
            it.next()
        }
        return TextOutline(glyphs.logicalBounds.width / EM, segments)
    }

    companion object {
        private const val EM = 100.0

        /** The first face of a TrueType/OpenType file or collection (e.g. Debian's wqy-microhei.ttc). */
        fun fromFile(file: File): JvmLabelFont =
            JvmLabelFont(Font.createFonts(file).first())

        /**
         * `$INKSEAL_SEAL_FONT`, else the first of Debian's CJK fonts installed (WenQuanYi Micro
         * Hei first, as the server's seal font), else Java's logical SansSerif font (which falls
         * back through the system's fonts for Chinese where the desktop has one).
         */
        fun system(): JvmLabelFont {
            System.getenv("INKSEAL_SEAL_FONT")?.let { return fromFile(File(it)) } // named: must load
            // The same list as the server's (inkseal_pdf::seal::DEBIAN_CJK_FONTS).
            val file = listOf(
                "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
                "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
                "/usr/share/fonts/truetype/arphic/uming.ttc",
                "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
                "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
            ).map(::File).firstOrNull { it.isFile }
            return if (file != null) fromFile(file) else JvmLabelFont(Font(Font.SANS_SERIF, Font.PLAIN, 1))
        }
    }
}
