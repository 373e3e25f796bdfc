package io.inkseal.sample.pad

import android.graphics.Bitmap
import android.graphics.BitmapFactory
import android.os.SystemClock
import android.view.MotionEvent
import androidx.compose.foundation.Canvas
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateListOf
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.setValue
import androidx.compose.runtime.snapshots.SnapshotStateList
import androidx.compose.ui.ExperimentalComposeUiApi
import androidx.compose.ui.Modifier
import androidx.compose.ui.geometry.Offset
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.graphics.Path
import androidx.compose.ui.graphics.drawscope.DrawScope
import androidx.compose.ui.input.pointer.pointerInteropFilter
import androidx.compose.ui.layout.onSizeChanged
import androidx.compose.ui.platform.LocalContext
import io.inkseal.Handwriting
import io.inkseal.InkPad
import io.inkseal.InkPoint
import io.inkseal.InkSegment
import io.inkseal.InksealException
import kotlin.math.hypot

private val INK = Color(0xFF152E8F)

/**
 * The pad's state: the library's [InkPad] (which records the raw samples for the biometric
 * record and smooths them) and the segments it returned, per stroke, for drawing.
 */
class SignaturePadState : AutoCloseable {
    private var pad: InkPad? = null
    private var size = 0 to 0
    private var origin = 0L
    private var down = false

    /** Segments to draw, one list per stroke (observed by the Canvas). */
    val strokes: SnapshotStateList<SnapshotStateList<InkSegment>> = mutableStateListOf()
    var error by mutableStateOf<String?>(null)
        private set
    val isEmpty: Boolean get() = strokes.isEmpty()

    /** A pad in the view's pixels with the screen's [dpi]; a new size starts over. */
    fun attach(width: Int, height: Int, dpi: Float) {
        if (pad != null && size == (width to height)) return
        pad?.close()
        pad = InkPad(width.toFloat(), height.toFloat(), dpi)
        size = width to height
        origin = SystemClock.uptimeMillis()
        strokes.clear()
    }

    /**
     * One touch event: a MotionEvent batches the samples since the last frame in its history,
     * so every ACTION_MOVE goes to the library as one addPoints call.
     */
    fun onTouch(ev: MotionEvent): Boolean {
        val p = pad ?: return false
        guarded {
            when (ev.actionMasked) {
                MotionEvent.ACTION_DOWN -> {
                    p.beginStroke()
                    down = true
                    strokes += mutableStateListOf<InkSegment>()
                    strokes.last() += p.addPoints(samples(ev))
                }
                MotionEvent.ACTION_MOVE -> if (down) strokes.last() += p.addPoints(samples(ev))
                MotionEvent.ACTION_UP -> if (down) {
                    strokes.last() += p.addPoints(samples(ev))
                    strokes.last() += p.endStroke()
                    down = false
                }
                MotionEvent.ACTION_CANCEL -> if (down) {
                    // The system took the gesture (e.g. a palm): drop the stroke.
                    p.endStroke()
                    p.undo()
                    strokes.removeAt(strokes.lastIndex)
                    down = false
                }
            }
            Unit
        }
        return true
    }

    fun undo() {
        if (!down && guarded { pad?.undo() } == true) strokes.removeAt(strokes.lastIndex)
    }

    fun clear() {
        if (down) return
        guarded { pad?.clear() }
        strokes.clear()
    }

    /** A preview of the ink for the result screen. */
    fun preview(widthPx: Int = 600): Bitmap? =
        guarded { pad?.toPng(widthPx) }?.let { BitmapFactory.decodeByteArray(it, 0, it.size) }

    /** The quality-checked signature (throws InksealException.HandwritingRejected). */
    fun finish(device: String): Handwriting = (pad ?: throw IllegalStateException("the pad is not laid out")).finish(device)

    override fun close() {
        pad?.close()
        pad = null
    }

    /** The event's historical samples and its current one, with stylus pressure and tilt. */
    private fun samples(ev: MotionEvent): List<InkPoint> {
        val stylus = ev.getToolType(0) == MotionEvent.TOOL_TYPE_STYLUS
        fun point(x: Float, y: Float, time: Long, pressure: Float, tilt: Float, orientation: Float) = InkPoint(
            x = x.coerceIn(0f, size.first.toFloat()),
            y = y.coerceIn(0f, size.second.toFloat()),
            tMs = (time - origin).coerceAtLeast(0).toUInt(),
            // A finger's "pressure" is a contact-area estimate: report none (0).
            pressure = if (stylus) pressure.coerceIn(0f, 1f) else 0f,
            tilt = if (stylus) tilt else null,
            azimuth = if (stylus) orientation else null,
        )
        return buildList(ev.historySize + 1) {
            for (h in 0 until ev.historySize) {
                add(point(ev.getHistoricalX(h), ev.getHistoricalY(h), ev.getHistoricalEventTime(h), ev.getHistoricalPressure(h),
                    ev.getHistoricalAxisValue(MotionEvent.AXIS_TILT, h), ev.getHistoricalOrientation(h)))
            }
            add(point(ev.x, ev.y, ev.eventTime, ev.pressure, ev.getAxisValue(MotionEvent.AXIS_TILT), ev.orientation))
        }
    }

    private inline fun <T> guarded(block: () -> T): T? =
        try {
            block().also { error = null }
        } catch (e: InksealException) {
            error = e.message
            null
        }
}

/** The Compose signature pad: touch and stylus in, the library's smoothed segments drawn. */
@OptIn(ExperimentalComposeUiApi::class)
@Composable
fun SignaturePad(state: SignaturePadState, modifier: Modifier = Modifier) {
    val dpi = LocalContext.current.resources.displayMetrics.xdpi
    Canvas(
        modifier
            .onSizeChanged { state.attach(it.width, it.height, dpi) }
            .pointerInteropFilter { state.onTouch(it) },
    ) {
        for (stroke in state.strokes) for (segment in stroke) drawCapsule(segment)
    }
}

/** A disc at each end of the segment and the quad joining their sides: a tapered stroke. */
private fun DrawScope.drawCapsule(s: InkSegment) {
    drawCircle(INK, radius = s.ra, center = Offset(s.ax, s.ay))
    drawCircle(INK, radius = s.rb, center = Offset(s.bx, s.by))
    val dx = s.bx - s.ax
    val dy = s.by - s.ay
    val len = hypot(dx, dy)
    if (len < 1e-3f) return
    val nx = -dy / len
    val ny = dx / len
    val quad = Path().apply {
        moveTo(s.ax + nx * s.ra, s.ay + ny * s.ra)
        lineTo(s.bx + nx * s.rb, s.by + ny * s.rb)
        lineTo(s.bx - nx * s.rb, s.by - ny * s.rb)
        lineTo(s.ax - nx * s.ra, s.ay - ny * s.ra)
        close()
    }
    drawPath(quad, INK)
}
