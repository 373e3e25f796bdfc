package io.inkseal.sample.pad

import android.content.Intent
import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.compose.setContent
import androidx.activity.viewModels
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.material3.AlertDialog
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.Surface
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.text.font.FontWeight
import androidx.compose.ui.unit.dp
import androidx.lifecycle.compose.collectAsStateWithLifecycle

class MainActivity : ComponentActivity() {
    private val flow: LoanFlowViewModel by viewModels()

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        if (savedInstanceState == null) receiveTicket(intent)
        setContent {
            MaterialTheme {
                Surface(Modifier.fillMaxSize()) { LoanFlowApp(flow) }
            }
        }
    }

    override fun onNewIntent(intent: Intent) {
        super.onNewIntent(intent)
        receiveTicket(intent)
    }

    /**
     * inkseal://enroll?ticket=et-…[&server=https://…]: the bank's teller system hands over the
     * enrollment ticket it obtained from POST /v1/admin/tickets (a QR code carrying the same
     * link works through the camera app).
     */
    private fun receiveTicket(intent: Intent?) {
        val uri = intent?.data ?: return
        if (uri.scheme != "inkseal" || uri.host != "enroll") return
        val ticket = uri.getQueryParameter("ticket")?.takeIf { it.startsWith("et-") } ?: return
        flow.receiveTicket(ticket, uri.getQueryParameter("server")?.takeIf { it.startsWith("https://") })
    }
}

private val STEPS = listOf("登录", "开户", "身份核验", "签署", "完成")

@Composable
fun LoanFlowApp(flow: LoanFlowViewModel) {
    val state by flow.state.collectAsStateWithLifecycle()
    val index = when (state.step) {
        Step.Login -> 0
        Step.Enroll -> 1
        Step.Capture -> 2
        Step.Sign, Step.Confirm -> 3
        is Step.Done -> 4
    }
    Column(Modifier.fillMaxSize()) {
        Row(Modifier.fillMaxWidth().padding(horizontal = 24.dp, vertical = 12.dp), horizontalArrangement = Arrangement.spacedBy(24.dp)) {
            Text("inkseal 柜面签约", style = MaterialTheme.typography.titleLarge, fontWeight = FontWeight.Bold)
            STEPS.forEachIndexed { i, name ->
                Text("${i + 1}. $name", fontWeight = if (i == index) FontWeight.Bold else FontWeight.Normal)
            }
        }
        if (state.busy) LinearProgressIndicator(Modifier.fillMaxWidth()) else Box(Modifier.padding(2.dp))
        Box(Modifier.weight(1f).fillMaxWidth()) {
            when (val step = state.step) {
                Step.Login -> LoginScreen(state, flow::login)
                Step.Enroll -> EnrollScreen(state, flow::enroll)
                Step.Capture -> CaptureScreen(state, flow.capture, flow::captureIdentity)
                Step.Sign -> SignScreen(state, flow)
                // The liveness capture bound to the prepared contract runs inside sign().
                Step.Confirm -> CaptureScreen(state, flow.capture, onStart = null)
                is Step.Done -> ResultScreen(step, flow::restart)
            }
        }
    }
    state.message?.let { message ->
        AlertDialog(
            onDismissRequest = flow::dismissMessage,
            text = { Text(message) },
            confirmButton = { TextButton(onClick = flow::dismissMessage) { Text("知道了") } },
        )
    }
}
