package io.inkseal.sample.pad

import android.Manifest
import android.content.pm.PackageManager
import android.util.Size
import androidx.activity.compose.rememberLauncherForActivityResult
import androidx.activity.result.contract.ActivityResultContracts
import androidx.camera.core.CameraSelector
import androidx.camera.core.ImageCapture
import androidx.camera.core.ImageCaptureException
import androidx.camera.core.ImageProxy
import androidx.camera.core.Preview
import androidx.camera.core.resolutionselector.ResolutionSelector
import androidx.camera.core.resolutionselector.ResolutionStrategy
import androidx.camera.lifecycle.ProcessCameraProvider
import androidx.camera.view.PreviewView
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.width
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.DisposableEffect
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.unit.dp
import androidx.compose.ui.viewinterop.AndroidView
import androidx.core.content.ContextCompat
import androidx.lifecycle.compose.LocalLifecycleOwner
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import io.inkseal.ffi.IdCardCaptureResult
import io.inkseal.ffi.LivenessCaptureResult
import java.util.concurrent.Executor
import kotlin.coroutines.resume
import kotlin.coroutines.resumeWithException
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.suspendCancellableCoroutine

/**
 * Identity capture: a start button while nothing is asked, then whatever the library's hooks
 * ask for (the ID card first, then the face), then the server's verdict moves the flow on.
 * Without [onStart] (the liveness check bound to the contract, started by signing) it only
 * shows what the hooks ask for.
 */
@Composable
fun CaptureScreen(state: UiState, coordinator: CaptureCoordinator, onStart: (() -> Unit)?) {
    val request by coordinator.request.collectAsStateWithLifecycle()
    CameraPermission {
        when (val r = request) {
            is CaptureCoordinator.Request.IdCard -> IdCardCapture(r, onCancel = coordinator::cancel)
            is CaptureCoordinator.Request.Liveness -> LivenessCapture(r, onCancel = coordinator::cancel)
            null -> Column(Modifier.fillMaxSize().padding(48.dp), verticalArrangement = Arrangement.spacedBy(16.dp)) {
                if (onStart == null) {
                    Text("签署确认", style = MaterialTheme.typography.headlineMedium)
                    Text("请客户正对屏幕完成活体检测：结果与本合同的摘要绑定，仅可用于本次签署。")
                } else {
                    Text("身份核验", style = MaterialTheme.typography.headlineMedium)
                    Text("先拍摄客户身份证正反面并由柜员确认信息，再进行人脸活体检测。结果由签名服务器判定（身份证号与开户票据核对）。")
                    state.captureError?.let { Text("未通过：$it", color = MaterialTheme.colorScheme.error) }
                    Button(onClick = onStart, enabled = !state.busy) { Text(if (state.captureError == null) "开始核验" else "重新核验") }
                }
                if (state.busy) Text("等待服务器判定…")
            }
        }
    }
}

/** Face liveness: the front camera, the challenge's actions one after the other in Chinese. */
@Composable
private fun LivenessCapture(
    request: CaptureCoordinator.Request.Liveness,
    onCancel: () -> Unit,
    vendor: LivenessVendor = DevelopmentTestVendor,
) {
    val context = LocalContext.current
    val imageCapture = remember { newImageCapture() }
    var prompt by remember { mutableStateOf("请正对屏幕，保持光线充足") }
    var progress by remember { mutableStateOf("") }
    Box(Modifier.fillMaxSize()) {
        CameraPreview(CameraSelector.DEFAULT_FRONT_CAMERA, imageCapture, Modifier.fillMaxSize())
        Column(Modifier.align(Alignment.TopCenter).padding(32.dp), horizontalAlignment = Alignment.CenterHorizontally) {
            Text(prompt, style = MaterialTheme.typography.displaySmall, color = Color.White)
            Text(progress, color = Color.White)
        }
        OutlinedButton(onClick = onCancel, modifier = Modifier.align(Alignment.BottomCenter).padding(32.dp)) { Text("取消", color = Color.White) }
    }
    LaunchedEffect(request) {
        val executor = ContextCompat.getMainExecutor(context)
        val actions = request.challenge.actions
        try {
            delay(1_500) // the camera settles, the customer faces it
            val frames = mutableListOf(imageCapture.takeJpeg(executor))
            actions.forEachIndexed { i, action ->
                prompt = ACTION_PROMPTS[action] ?: action
                progress = "${i + 1} / ${actions.size}"
                delay(1_800)
                frames += imageCapture.takeJpeg(executor)
            }
            prompt = "采集完成，正在提交…"
            // ─── VENDOR SDK PLUG POINT (see CaptureHooks.kt) ───
            val result = vendor.packageFor(request.challenge, frames, actions)
            request.reply.complete(
                LivenessCaptureResult(
                    frames = frames,
                    vendorName = vendor.name,
                    vendorReference = result.reference,
                    vendorPackage = result.packageBytes,
                ),
            )
        } catch (e: CancellationException) {
            request.reply.cancel()
            throw e
        } catch (e: Exception) {
            request.reply.completeExceptionally(e)
        }
    }
}

/** The ID card: the back camera for both sides, then the officer confirms the fields. */
@Composable
private fun IdCardCapture(
    request: CaptureCoordinator.Request.IdCard,
    onCancel: () -> Unit,
    reader: IdCardReader = ManualEntry,
) {
    val context = LocalContext.current
    val scope = rememberCoroutineScope()
    val imageCapture = remember { newImageCapture() }
    var front by remember { mutableStateOf<ByteArray?>(null) }
    var back by remember { mutableStateOf<ByteArray?>(null) }
    var form by remember { mutableStateOf<IdCardForm?>(null) }
    var error by remember { mutableStateOf<String?>(null) }

    val confirming = form
    if (confirming == null) {
        Row(Modifier.fillMaxSize().padding(24.dp), horizontalArrangement = Arrangement.spacedBy(24.dp)) {
            CameraPreview(CameraSelector.DEFAULT_BACK_CAMERA, imageCapture, Modifier.weight(1f).fillMaxSize())
            Column(Modifier.width(280.dp), verticalArrangement = Arrangement.spacedBy(16.dp)) {
                Text(if (front == null) "拍摄身份证人像面" else "拍摄身份证国徽面", style = MaterialTheme.typography.headlineSmall)
                Text("将证件放平，四角完整入框，避免反光。")
                error?.let { Text(it, color = MaterialTheme.colorScheme.error) }
                Button(onClick = {
                    scope.launch {
                        try {
                            val jpeg = imageCapture.takeJpeg(ContextCompat.getMainExecutor(context))
                            val first = front
                            if (first == null) {
                                front = jpeg
                            } else {
                                back = jpeg
                                // ─── OCR PLUG POINT (see CaptureHooks.kt) ───
                                form = reader.read(first, jpeg)
                            }
                            error = null
                        } catch (e: ImageCaptureException) {
                            error = "拍摄失败：${e.message}"
                        }
                    }
                }) { Text("拍摄") }
                OutlinedButton(onClick = onCancel) { Text("取消") }
            }
        }
    } else {
        IdCardConfirmation(
            form = confirming,
            onChange = { form = it },
            onRetake = { front = null; back = null; form = null },
            onConfirm = {
                val f = front
                val b = back
                if (f != null && b != null) request.reply.complete(IdCardCaptureResult(front = f, back = b, fieldsJson = confirming.toJson()))
            },
        )
    }
}

/** The OCR placeholder's form: the officer types or corrects the card's fields. */
@Composable
private fun IdCardConfirmation(form: IdCardForm, onChange: (IdCardForm) -> Unit, onRetake: () -> Unit, onConfirm: () -> Unit) {
    Column(Modifier.fillMaxSize().padding(32.dp).verticalScroll(rememberScrollState()), verticalArrangement = Arrangement.spacedBy(8.dp)) {
        Text("请柜员核对证件信息", style = MaterialTheme.typography.headlineSmall)
        Text("（示例未接入 OCR：请按证件录入；接入 OCR 后此处为识别结果，柜员确认。）", style = MaterialTheme.typography.bodySmall)
        @Composable
        fun field(label: String, value: String, update: (String) -> Unit) =
            OutlinedTextField(value = value, onValueChange = update, label = { Text(label) }, singleLine = true, modifier = Modifier.fillMaxWidth())
        field("姓名", form.name) { onChange(form.copy(name = it)) }
        field("性别（男/女）", form.sex) { onChange(form.copy(sex = it)) }
        field("民族", form.ethnicity) { onChange(form.copy(ethnicity = it)) }
        field("出生（YYYY-MM-DD）", form.birthDate) { onChange(form.copy(birthDate = it)) }
        field("住址", form.address) { onChange(form.copy(address = it)) }
        field("公民身份号码", form.idNumber) { onChange(form.copy(idNumber = it)) }
        field("签发机关", form.issuingAuthority) { onChange(form.copy(issuingAuthority = it)) }
        field("有效期限自（YYYY.MM.DD）", form.validFrom) { onChange(form.copy(validFrom = it)) }
        field("有效期限至（YYYY.MM.DD 或 长期）", form.validUntil) { onChange(form.copy(validUntil = it)) }
        Row(horizontalArrangement = Arrangement.spacedBy(16.dp)) {
            Button(onClick = onConfirm, enabled = form.complete) { Text("确认无误") }
            OutlinedButton(onClick = onRetake) { Text("重新拍摄") }
        }
    }
}

/** Asks for the camera permission once; shows [content] when granted. */
@Composable
private fun CameraPermission(content: @Composable () -> Unit) {
    val context = LocalContext.current
    var granted by remember {
        mutableStateOf(ContextCompat.checkSelfPermission(context, Manifest.permission.CAMERA) == PackageManager.PERMISSION_GRANTED)
    }
    val launcher = rememberLauncherForActivityResult(ActivityResultContracts.RequestPermission()) { granted = it }
    LaunchedEffect(Unit) { if (!granted) launcher.launch(Manifest.permission.CAMERA) }
    if (granted) {
        content()
    } else {
        Column(Modifier.padding(48.dp)) {
            Text("身份核验需要使用相机。")
            Button(onClick = { launcher.launch(Manifest.permission.CAMERA) }) { Text("授予相机权限") }
        }
    }
}

/** A CameraX preview bound to the screen's lifecycle together with [imageCapture]. */
@Composable
private fun CameraPreview(selector: CameraSelector, imageCapture: ImageCapture, modifier: Modifier = Modifier) {
    val context = LocalContext.current
    val lifecycleOwner = LocalLifecycleOwner.current
    val previewView = remember { PreviewView(context) }
    var provider by remember { mutableStateOf<ProcessCameraProvider?>(null) }
    AndroidView(factory = { previewView }, modifier = modifier)
    LaunchedEffect(selector, imageCapture) {
        val cameras = ProcessCameraProvider.awaitInstance(context)
        val preview = Preview.Builder().build().also { it.setSurfaceProvider(previewView.surfaceProvider) }
        cameras.unbindAll()
        cameras.bindToLifecycle(lifecycleOwner, selector, preview, imageCapture)
        provider = cameras
    }
    DisposableEffect(Unit) { onDispose { provider?.unbindAll() } }
}

/**
 * JPEG frames of about 1280x720 (the library checks size, brightness, sharpness and the face
 * box, and the evidence carries every frame: no need for 12-megapixel photos).
 */
private fun newImageCapture(): ImageCapture =
    ImageCapture.Builder()
        .setCaptureMode(ImageCapture.CAPTURE_MODE_MINIMIZE_LATENCY)
        .setJpegQuality(85)
        .setResolutionSelector(
            ResolutionSelector.Builder()
                .setResolutionStrategy(ResolutionStrategy(Size(1280, 720), ResolutionStrategy.FALLBACK_RULE_CLOSEST_LOWER_THEN_HIGHER))
                .build(),
        )
        .build()

/** Takes one picture; the bytes of the JPEG CameraX encoded. */
private suspend fun ImageCapture.takeJpeg(executor: Executor): ByteArray =
    suspendCancellableCoroutine { cont ->
        takePicture(
            executor,
            object : ImageCapture.OnImageCapturedCallback() {
                override fun onCaptureSuccess(image: ImageProxy) {
                    val bytes = image.use {
                        val buffer = it.planes[0].buffer
                        ByteArray(buffer.remaining()).also { out -> buffer.get(out) }
                    }
                    cont.resume(bytes)
                }

                override fun onError(exception: ImageCaptureException) {
                    cont.resumeWithException(exception)
                }
            },
        )
    }
