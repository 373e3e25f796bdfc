package io.inkseal.sample.desktop

import java.io.File

/** One recorded sample: pad units (x right, y down), milliseconds, pressure 0..1. */
data class RecordedPoint(val x: Float, val y: Float, val tMs: Long, val pressure: Float)

/**
 * A recorded signature: `{"width":600,"height":240,"dpi":160,"strokes":[[[x,y,t_ms,pressure],...],...]}`
 * (an optional `"signer"` names who wrote it). Timestamps never go back across the file.
 */
data class StrokesFile(
    val width: Float,
    val height: Float,
    val dpi: Float,
    val signer: String?,
    val strokes: List<List<RecordedPoint>>,
) {
    val pointCount: Int get() = strokes.sumOf { it.size }

    companion object {
        fun load(file: File): StrokesFile {
            val root = Json.parse(file.readText()) as? Map<*, *>
                ?: throw IllegalArgumentException("$file: not a JSON object")
            fun number(key: String): Float =
                (root[key] as? Double)?.toFloat() ?: throw IllegalArgumentException("$file: \"$key\" must be a number")
            val strokes = (root["strokes"] as? List<*>)
                ?: throw IllegalArgumentException("$file: \"strokes\" must be an array")
            var lastT = Long.MIN_VALUE
            val parsed = strokes.mapIndexed { s, stroke ->
                (stroke as? List<*> ?: throw IllegalArgumentException("$file: stroke $s is not an array")).mapIndexed { p, point ->
                    val v = (point as? List<*>)?.map { it as? Double }
                    if (v == null || v.size != 4 || v.any { it == null || !it.isFinite() }) {
                        throw IllegalArgumentException("$file: stroke $s point $p must be [x, y, t_ms, pressure]")
                    }
                    val t = v[2]!!.toLong()
                    if (t < lastT) throw IllegalArgumentException("$file: stroke $s point $p goes back in time")
                    lastT = t
                    RecordedPoint(v[0]!!.toFloat(), v[1]!!.toFloat(), t, v[3]!!.toFloat().coerceIn(0f, 1f))
                }
            }.filter { it.isNotEmpty() }
            if (parsed.isEmpty()) throw IllegalArgumentException("$file: no strokes")
            return StrokesFile(number("width"), number("height"), number("dpi"), root["signer"] as? String, parsed)
        }
    }
}
