package io.inkseal.sample.desktop

import java.awt.Color
import java.awt.Font
import java.awt.GraphicsEnvironment
import javax.swing.SwingUtilities
import javax.swing.UIManager
import javax.swing.plaf.FontUIResource
import kotlin.coroutines.CoroutineContext
import kotlinx.coroutines.CoroutineDispatcher

/**
 * Runs coroutines on the Swing event dispatch thread (the sample has only
 * kotlinx-coroutines-core, not kotlinx-coroutines-swing). The façade's suspend functions
 * switch to Dispatchers.IO themselves and resume here.
 */
object Edt : CoroutineDispatcher() {
    override fun isDispatchNeeded(context: CoroutineContext): Boolean = !SwingUtilities.isEventDispatchThread()

    override fun dispatch(context: CoroutineContext, block: Runnable) = SwingUtilities.invokeLater(block)
}

/** Colours the screenshot check looks for, so they are exact RGB values, painted opaque. */
object Palette {
    /** The live ink on the pad. */
    val INK = Color(0x15, 0x2E, 0x8F)
    /** The "valid" verdict banner. */
    val VALID = Color(0x1E, 0x7D, 0x32)
    /** The "invalid" / failure banner. */
    val INVALID = Color(0xB7, 0x1C, 0x1C)
    val WAITING = Color(0x60, 0x6B, 0x78)
    val PAPER = Color(0xFC, 0xFB, 0xF6)
    val GUIDE = Color(0xC8, 0xC4, 0xB8)
}

/**
 * A font family that can draw the Chinese text of the flow (the JDK's logical fonts may not
 * fall back to a CJK font under a bare X server), applied to every Swing component.
 */
fun installCjkFont(): String {
    val probe = "借款人签字验证通过"
    val families = GraphicsEnvironment.getLocalGraphicsEnvironment().availableFontFamilyNames
    val preferred = listOf("Noto Sans CJK SC", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Source Han Sans SC", "AR PL UMing CN")
    val family = preferred.firstOrNull { it in families }
        ?: families.firstOrNull { Font(it, Font.PLAIN, 14).canDisplayUpTo(probe) == -1 }
        ?: Font.DIALOG
    val keys = UIManager.getDefaults().keys().toList()
    for (key in keys) {
        val value = UIManager.get(key)
        if (value is FontUIResource) UIManager.put(key, FontUIResource(family, value.style, maxOf(value.size, 13)))
    }
    return family
}
