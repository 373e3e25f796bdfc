package io.inkseal.sample.desktop

/**
 * A minimal JSON reader for the strokes file (the sample uses only the JDK and the Kotlin
 * standard library): objects become maps, arrays lists, numbers doubles.
 */
internal class Json private constructor(private val s: String) {
    private var i = 0

    companion object {
        fun parse(text: String): Any? {
            val p = Json(text)
            val v = p.value()
            p.ws()
            if (p.i != p.s.length) p.fail("trailing characters")
            return v
        }
    }

    private fun fail(what: String): Nothing = throw IllegalArgumentException("JSON: $what at offset $i")

    private fun ws() {
        while (i < s.length && s[i].isWhitespace()) i++
    }

    private fun value(): Any? {
        ws()
        if (i >= s.length) fail("unexpected end")
        return when (val c = s[i]) {
            '{' -> obj()
            '[' -> arr()
            '"' -> str()
            't' -> word("true", true)
            'f' -> word("false", false)
            'n' -> word("null", null)
            else -> if (c == '-' || c.isDigit()) num() else fail("unexpected '$c'")
        }
    }

    private fun word(w: String, v: Any?): Any? {
        if (!s.startsWith(w, i)) fail("expected $w")
        i += w.length
        return v
    }

    private fun obj(): Map<String, Any?> {
        val out = LinkedHashMap<String, Any?>()
        i++
        ws()
        if (s.getOrNull(i) == '}') return out.also { i++ }
        while (true) {
            ws()
            if (s.getOrNull(i) != '"') fail("expected a key")
            val k = str()
            ws()
            if (s.getOrNull(i++) != ':') fail("expected ':'")
            out[k] = value()
            ws()
            when (s.getOrNull(i++)) {
                ',' -> continue
                '}' -> return out
                else -> fail("expected ',' or '}'")
            }
        }
    }

    private fun arr(): List<Any?> {
        val out = ArrayList<Any?>()
        i++
        ws()
        if (s.getOrNull(i) == ']') return out.also { i++ }
        while (true) {
            out += value()
            ws()
            when (s.getOrNull(i++)) {
                ',' -> continue
                ']' -> return out
                else -> fail("expected ',' or ']'")
            }
        }
    }

    private fun str(): String {
        val sb = StringBuilder()
        i++
        while (true) {
            if (i >= s.length) fail("unterminated string")
            when (val c = s[i++]) {
                '"' -> return sb.toString()
                '\\' -> {
                    when (val e = s.getOrNull(i++)) {
                        '"', '\\', '/' -> sb.append(e)
                        'b' -> sb.append('\b')
                        'f' -> sb.append('\u000C')
                        'n' -> sb.append('\n')
                        'r' -> sb.append('\r')
                        't' -> sb.append('\t')
                        'u' -> {
                            if (i + 4 > s.length) fail("bad \\u escape")
                            sb.append(s.substring(i, i + 4).toInt(16).toChar())
                            i += 4
                        }
                        else -> fail("bad escape")
                    }
                }
                else -> sb.append(c)
            }
        }
    }

    private fun num(): Double {
        val start = i
        while (i < s.length && (s[i].isDigit() || s[i] in "+-.eE")) i++
        return s.substring(start, i).toDoubleOrNull() ?: fail("bad number")
    }
}
