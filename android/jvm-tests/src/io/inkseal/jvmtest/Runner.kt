// A small test runner (no JUnit on the machine): runs each test, prints PASS/FAIL with the
// failure, a closing "N passed, N failed" line, and exits non-zero when anything failed.
package io.inkseal.jvmtest

import kotlin.system.exitProcess
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout

class Runner {
    private val tests = mutableListOf<Pair<String, suspend () -> Unit>>()

    fun test(name: String, body: suspend () -> Unit) {
        tests += name to body
    }

    fun runAll(): Nothing {
        var passed = 0
        var failed = 0
        for ((name, body) in tests) {
            val started = System.nanoTime()
            try {
                runBlocking { withTimeout(120_000) { body() } }
                passed++
                println("PASS  $name (${(System.nanoTime() - started) / 1_000_000} ms)")
            } catch (t: Throwable) {
                failed++
                println("FAIL  $name")
                t.printStackTrace(System.out)
            }
        }
        println("$passed passed, $failed failed")
        System.out.flush()
        exitProcess(if (failed == 0) 0 else 1)
    }
}

/** A required system property. */
fun property(name: String): String =
    System.getProperty(name) ?: error("set -D$name (scripts/bindings.sh test-kotlin does)")
