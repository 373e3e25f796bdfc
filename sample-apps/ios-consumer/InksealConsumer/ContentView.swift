import PDFKit
import Inkseal
import SwiftUI

struct ContentView: View {
    @StateObject private var flow = PolicyFlow()

    var body: some View {
        NavigationStack {
            Group {
                switch flow.step {
                case .welcome: WelcomeView(flow: flow)
                case .enroll: PinView(title: "设置 6 位签名 PIN", confirmTwice: true, busy: flow.busy) { flow.enroll(pin: $0) }
                case .face: FaceView(flow: flow)
                case .sign: SignView(flow: flow)
                case .confirm: FaceView(flow: flow, boundToPolicy: true)
                case let .done(verification, signed): DoneView(verification: verification, signed: signed) { flow.restart() }
                }
            }
            .padding()
            .navigationTitle("电子保单签署")
            // The insurer's link: inkseal-consumer://enroll?ticket=et-...
            .onOpenURL { flow.open($0) }
            .overlay(alignment: .bottom) {
                if let problem = flow.problem {
                    Text(problem.message)
                        .padding()
                        .frame(maxWidth: .infinity)
                        .background(.red.opacity(0.9))
                        .foregroundStyle(.white)
                        .onTapGesture { flow.problem = nil }
                }
            }
        }
    }
}

struct WelcomeView: View {
    @ObservedObject var flow: PolicyFlow

    var body: some View {
        Form {
            TextField("签名服务器 URL", text: $flow.serverUrl).textInputAutocapitalization(.never).keyboardType(.URL)
            // Filled in by the insurer's link; pasting the ticket works too.
            TextField("开通票据（et-…）", text: $flow.ticket).textInputAutocapitalization(.never).autocorrectionDisabled()
            Text("请从保险公司的投保页面打开本应用：链接中带有一次性开通票据。").font(.footnote)
            Button("开始") { flow.start() }.disabled(flow.busy || !flow.ticket.hasPrefix("et-"))
        }
    }
}

/// Six digits; with [confirmTwice], entered twice.
struct PinView: View {
    let title: String
    var confirmTwice = false
    let busy: Bool
    let onPin: (String) -> Void
    @State private var pin = ""
    @State private var first: String?

    var body: some View {
        VStack(spacing: 16) {
            Text(first == nil ? title : "请再次输入 PIN").font(.title2)
            SecureField("PIN", text: $pin)
                .keyboardType(.numberPad)
                .textContentType(.oneTimeCode)
                .multilineTextAlignment(.center)
                .font(.largeTitle)
                .onChange(of: pin) { _, value in
                    guard value.count == 6 else { return }
                    pin = ""
                    if !confirmTwice { onPin(value) } else if let f = first { first = nil; if f == value { onPin(value) } } else { first = value }
                }
                .disabled(busy)
            if busy { ProgressView() }
        }
    }
}

struct FaceView: View {
    @ObservedObject var flow: PolicyFlow
    @ObservedObject var face: FaceCaptureModel
    /// The check that lets the prepared policy be signed (started by signing, no button).
    let boundToPolicy: Bool

    init(flow: PolicyFlow, boundToPolicy: Bool = false) {
        self.flow = flow
        self.face = flow.face
        self.boundToPolicy = boundToPolicy
    }

    var body: some View {
        VStack(spacing: 16) {
            if face.running {
                ZStack(alignment: .top) {
                    CameraPreview(session: face.session).clipShape(RoundedRectangle(cornerRadius: 16))
                    Text(face.prompt).font(.largeTitle.bold()).foregroundStyle(.white).padding().shadow(radius: 4)
                }
            } else if boundToPolicy {
                Text("签署确认").font(.title)
                Text("请再次完成人脸核验：结果与本保单的摘要绑定，仅可用于本次签署。")
                ProgressView()
            } else {
                Text("人脸核验").font(.title)
                Text("请按屏幕提示完成动作。核验结果由签名服务器判定，用于申请您的签名证书。")
                Button(flow.busy ? "核验中…" : "开始核验") { flow.verifyFace() }.disabled(flow.busy)
            }
        }
    }
}

struct SignView: View {
    @ObservedObject var flow: PolicyFlow
    @ObservedObject var pad: SignaturePadModel
    @State private var askPin = false

    init(flow: PolicyFlow) {
        self.flow = flow
        self.pad = flow.pad
    }

    var body: some View {
        VStack(spacing: 12) {
            if let url = try? InksealService.policyDocument() {
                PDFKitView(url: url, highlight: InksealService.keyword).frame(maxHeight: .infinity)
            }
            Text("投保人签名").font(.headline)
            SignaturePad(model: pad)
                .frame(height: 220)
                .overlay(RoundedRectangle(cornerRadius: 8).stroke(.gray.opacity(0.5)))
            if let error = pad.error { Text(error).foregroundStyle(.red) }
            HStack {
                Button("撤销") { pad.undo() }
                Button("清除") { pad.clear() }
                Spacer()
                Button("确认签署") { askPin = true }.buttonStyle(.borderedProminent).disabled(pad.strokeCount == 0 || flow.busy)
            }
        }
        .sheet(isPresented: $askPin) {
            PinView(title: "请输入签名 PIN", busy: flow.busy) { pin in
                askPin = false
                flow.sign(pin: pin)
            }
            .padding()
            .presentationDetents([.medium])
        }
    }
}

struct DoneView: View {
    let verification: PdfVerification
    let signed: URL
    let onNext: () -> Void

    var body: some View {
        let sig = verification.signatures.last
        let valid = verification.allValid && sig?.trusted == true && sig?.inkBinding == true
        VStack(alignment: .leading, spacing: 8) {
            Label(valid ? "验证通过" : "验证失败", systemImage: valid ? "checkmark.seal.fill" : "xmark.seal.fill")
                .font(.title.bold())
                .foregroundStyle(valid ? .green : .red)
            Text("签署人：\(sig?.signer ?? "-")")
            Text("算法：\(sig?.algorithm ?? "-")  时间：\(sig?.signingTime ?? "-")")
            Text("覆盖全文：\(sig?.coversWholeDocument == true ? "是" : "否")  证书可信：\(sig?.trusted == true ? "是" : "否")  笔迹绑定：\(sig?.inkBinding == true ? "是" : "否")")
            ForEach(sig?.problems ?? [], id: \.self) { Text("问题：\($0)").foregroundStyle(.red) }
            // PDFKit draws the signature widget's appearance: the handwriting on the page.
            PDFKitView(url: signed, highlight: InksealService.keyword)
            HStack {
                ShareLink(item: signed) { Label("分享保单", systemImage: "square.and.arrow.up") }
                Spacer()
                Button("完成", action: onNext)
            }
        }
    }
}

/// A PDF shown with PDFKit, scrolled to [highlight].
struct PDFKitView: UIViewRepresentable {
    let url: URL
    var highlight: String?

    func makeUIView(context: Context) -> PDFView {
        let view = PDFView()
        view.autoScales = true
        view.displayMode = .singlePageContinuous
        return view
    }

    func updateUIView(_ view: PDFView, context: Context) {
        guard view.document?.documentURL != url, let document = PDFDocument(url: url) else { return }
        view.document = document
        if let text = highlight, let hit = document.findString(text, withOptions: []).first {
            view.go(to: hit)
        }
    }
}
