package io.inkseal.sample.pad

import android.graphics.Bitmap
import androidx.compose.foundation.Image
import androidx.compose.foundation.background
import androidx.compose.foundation.border
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.Spacer
import androidx.compose.foundation.layout.fillMaxHeight
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.height
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.size
import androidx.compose.foundation.layout.width
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.AlertDialog
import androidx.compose.material3.Button
import androidx.compose.material3.Card
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.graphics.asImageBitmap
import androidx.compose.ui.layout.ContentScale
import androidx.compose.ui.text.font.FontWeight
import androidx.compose.ui.unit.dp
import androidx.compose.ui.unit.sp

/**
 * The server and the customer's enrollment ticket. The bank's backend issues the ticket (after
 * its own KYC) and the teller system opens inkseal://enroll?ticket=et-… on this tablet, which
 * fills the field (MainActivity); pasting it, or the text of a scanned QR code, works too.
 */
@Composable
fun LoginScreen(state: UiState, onLogin: (serverUrl: String, ticket: String) -> Unit) {
    var server by remember(state.serverUrl) { mutableStateOf(state.serverUrl) }
    var ticket by remember(state.ticket) { mutableStateOf(state.ticket) }
    Column(Modifier.padding(48.dp).width(520.dp), verticalArrangement = Arrangement.spacedBy(12.dp)) {
        Text("开户", style = MaterialTheme.typography.headlineMedium)
        OutlinedTextField(server, { server = it }, label = { Text("签名服务器 URL") }, singleLine = true, modifier = Modifier.fillMaxWidth())
        OutlinedTextField(ticket, { ticket = it }, label = { Text("开户票据（后台下发，et-…）") }, singleLine = true, modifier = Modifier.fillMaxWidth())
        Text("票据由银行后台在核实客户后签发，只能使用一次。", style = MaterialTheme.typography.bodySmall)
        Button(onClick = { onLogin(server.trim(), ticket.trim()) }, enabled = !state.busy && server.isNotBlank() && ticket.startsWith("et-")) {
            Text("开始办理")
        }
    }
}

/** The customer chooses a PIN (twice) on the PIN pad. */
@Composable
fun EnrollScreen(state: UiState, onEnroll: (pin: String) -> Unit) {
    var first by remember { mutableStateOf<String?>(null) }
    var mismatch by remember { mutableStateOf(false) }
    Column(Modifier.padding(48.dp), verticalArrangement = Arrangement.spacedBy(16.dp)) {
        Text("请客户设置 6 位签名 PIN", style = MaterialTheme.typography.headlineMedium)
        Text(if (first == null) "请输入 PIN" else "请再次输入 PIN")
        if (mismatch) Text("两次输入不一致，请重新设置", color = MaterialTheme.colorScheme.error)
        state.enrollError?.let { Text(it, color = MaterialTheme.colorScheme.error) }
        PinPad(enabled = !state.busy) { pin ->
            val chosen = first
            when {
                chosen == null -> { first = pin; mismatch = false }
                chosen == pin -> onEnroll(pin)
                else -> { first = null; mismatch = true }
            }
        }
    }
}

/** Six digits, shown as dots; [onPin] gets them when the sixth is entered. */
@Composable
fun PinPad(enabled: Boolean, length: Int = 6, onPin: (String) -> Unit) {
    var digits by remember { mutableStateOf("") }
    Column(horizontalAlignment = Alignment.CenterHorizontally, verticalArrangement = Arrangement.spacedBy(8.dp)) {
        Text((1..length).joinToString(" ") { if (it <= digits.length) "●" else "○" }, fontSize = 28.sp)
        // A fixed layout: 1-9, then ⌫ 0 (bank counters often shuffle the digits; kept simple here).
        for (row in listOf("123", "456", "789", "⌫0")) {
            Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
                for (key in row) {
                    OutlinedButton(
                        onClick = {
                            if (key == '⌫') {
                                digits = digits.dropLast(1)
                            } else if (digits.length < length) {
                                digits += key
                                if (digits.length == length) {
                                    onPin(digits)
                                    digits = ""
                                }
                            }
                        },
                        enabled = enabled,
                        modifier = Modifier.size(88.dp, 64.dp),
                    ) { Text(key.toString(), fontSize = 24.sp) }
                }
            }
        }
    }
}

/** The contract on the left, the signature pad and the PIN on the right. */
@Composable
fun SignScreen(state: UiState, flow: LoanFlowViewModel) {
    var pages by remember { mutableStateOf<List<Bitmap>>(emptyList()) }
    var askPin by remember { mutableStateOf(false) }
    LaunchedEffect(Unit) { pages = PdfPages.render(flow.contractFile(), widthPx = 1000) }
    Row(Modifier.fillMaxSize().padding(16.dp), horizontalArrangement = Arrangement.spacedBy(16.dp)) {
        LazyColumn(Modifier.weight(1f).fillMaxHeight().background(Color(0xFFE4E6EA)), verticalArrangement = Arrangement.spacedBy(8.dp)) {
            items(pages) { page ->
                Image(page.asImageBitmap(), contentDescription = "合同页", modifier = Modifier.fillMaxWidth(), contentScale = ContentScale.FillWidth)
            }
        }
        Column(Modifier.weight(1f), verticalArrangement = Arrangement.spacedBy(12.dp)) {
            Text("借款人签名：${state.customerName}", style = MaterialTheme.typography.headlineSmall)
            state.evidence?.let { Text("身份核验通过：${it.idNumberMasked ?: ""}", color = Color(0xFF1E7D32)) }
            SignaturePad(
                flow.pad,
                Modifier.fillMaxWidth().height(300.dp).background(Color(0xFFFCFBF6)).border(1.dp, Color(0xFFC8C4B8)),
            )
            flow.pad.error?.let { Text(it, color = MaterialTheme.colorScheme.error) }
            Row(horizontalArrangement = Arrangement.spacedBy(12.dp)) {
                OutlinedButton(onClick = flow.pad::undo) { Text("撤销") }
                OutlinedButton(onClick = flow.pad::clear) { Text("清除") }
                Spacer(Modifier.weight(1f))
                Button(onClick = { askPin = true }, enabled = !state.busy && !flow.pad.isEmpty) { Text("确认签署") }
            }
            state.pinError?.let { Text(it, color = MaterialTheme.colorScheme.error) }
        }
    }
    if (askPin) {
        AlertDialog(
            onDismissRequest = { askPin = false },
            title = { Text("请输入签名 PIN") },
            text = { PinPad(enabled = !state.busy) { pin -> askPin = false; flow.sign(pin) } },
            confirmButton = {},
            dismissButton = { TextButton(onClick = { askPin = false }) { Text("取消") } },
        )
    }
}

/** The verdict, the handwriting and the signed page. */
@Composable
fun ResultScreen(done: Step.Done, onNext: () -> Unit) {
    val v = done.verification
    val sig = v.signatures.lastOrNull()
    val valid = v.allValid && sig?.trusted == true && sig?.inkBinding == true
    Row(Modifier.fillMaxSize().padding(24.dp), horizontalArrangement = Arrangement.spacedBy(24.dp)) {
        Column(Modifier.weight(1f), verticalArrangement = Arrangement.spacedBy(12.dp)) {
            Box(Modifier.fillMaxWidth().background(if (valid) Color(0xFF1E7D32) else Color(0xFFB71C1C)).padding(16.dp)) {
                Text(if (valid) "✔ 验证通过" else "✘ 验证失败", color = Color.White, fontSize = 28.sp, fontWeight = FontWeight.Bold)
            }
            Card(Modifier.fillMaxWidth()) {
                Column(Modifier.padding(16.dp), verticalArrangement = Arrangement.spacedBy(4.dp)) {
                    Text("签署人：${sig?.signer ?: "-"}")
                    Text("算法：${sig?.algorithm ?: "-"}")
                    Text("签署时间：${sig?.signingTime ?: "-"}")
                    Text("覆盖全文：${if (sig?.coversWholeDocument == true) "是" else "否"}")
                    Text("证书链可信：${if (sig?.trusted == true) "是" else "否"}")
                    Text("笔迹记录绑定：${if (sig?.inkBinding == true) "是" else "否"}")
                    sig?.problems?.forEach { Text("问题：$it", color = MaterialTheme.colorScheme.error) }
                    Text("文件：${done.signed.name}", style = MaterialTheme.typography.bodySmall)
                }
            }
            done.ink?.let { Image(it.asImageBitmap(), contentDescription = "签名笔迹", modifier = Modifier.fillMaxWidth().height(160.dp)) }
            Button(onClick = onNext) { Text("下一位客户") }
        }
        done.page?.let {
            Image(it.asImageBitmap(), contentDescription = "签署页", modifier = Modifier.weight(1f).fillMaxHeight(), contentScale = ContentScale.Fit)
        }
    }
}
