// The signature pad: UIKit touches (with the coalesced samples between frames, and Apple
// Pencil force, altitude and azimuth) go to the library's InkPad in one batch per event; the
// smoothed segments it returns are drawn as tapered capsules.
import Inkseal
import SwiftUI
import UIKit

@MainActor
final class SignaturePadModel: ObservableObject {
    @Published private(set) var strokeCount = 0
    @Published private(set) var error: String?
    fileprivate private(set) var strokes: [[InkSegment]] = []
    fileprivate var redraw: (() -> Void)?
    private var pad: InkPad?
    private var size = CGSize.zero
    private var origin: TimeInterval = 0
    private var down = false

    /// Points (the view's units) per inch: about 160 on current iPhones, 132 on full-size
    /// iPads; the library uses it for the quality rules and the pen width in millimetres.
    static let pointsPerInch: Float = UIDevice.current.userInterfaceIdiom == .pad ? 132 : 160

    fileprivate func attach(size: CGSize) {
        guard size.width > 0, size.height > 0, size != self.size || pad == nil else { return }
        pad = guarded { try InkPad(width: Float(size.width), height: Float(size.height), dpi: Self.pointsPerInch) }
        self.size = size
        origin = ProcessInfo.processInfo.systemUptime // UITouch timestamps count from boot too
        strokes = []
        changed()
    }

    fileprivate func begin(_ points: [InkPoint]) {
        guard let pad, guarded({ try pad.beginStroke() }) != nil else { return }
        down = true
        strokes.append([])
        add(points)
    }

    fileprivate func add(_ points: [InkPoint]) {
        guard down, let pad, let segments = guarded({ try pad.addPoints(points) }) else { return }
        strokes[strokes.count - 1] += segments
        redraw?()
    }

    fileprivate func end(_ points: [InkPoint]) {
        guard down, let pad else { return }
        add(points)
        if let tail = guarded({ try pad.endStroke() }) { strokes[strokes.count - 1] += tail }
        down = false
        changed()
    }

    /// The system took the touch (a palm, a gesture): drop the stroke.
    fileprivate func cancel() {
        guard down, let pad else { return }
        _ = guarded { try pad.endStroke() }
        _ = guarded { try pad.undo() }
        strokes.removeLast()
        down = false
        changed()
    }

    func undo() {
        guard !down, let pad, guarded({ try pad.undo() }) == true else { return }
        strokes.removeLast()
        changed()
    }

    func clear() {
        guard !down, let pad else { return }
        _ = guarded { try pad.clear() }
        strokes = []
        changed()
    }

    /// The quality-checked signature (throws `InksealError.handwritingRejected`).
    func finish() throws -> Handwriting {
        guard let pad else { throw InksealError.invalidInput("the pad is not laid out") }
        return try pad.finish(device: "\(UIDevice.current.model); iOS \(UIDevice.current.systemVersion)")
    }

    fileprivate func time(_ timestamp: TimeInterval) -> UInt32 {
        UInt32(max(0, (timestamp - origin) * 1000))
    }

    private func changed() {
        strokeCount = strokes.count
        redraw?()
    }

    private func guarded<T>(_ body: () throws -> T) -> T? {
        do {
            let value = try body()
            error = nil
            return value
        } catch {
            self.error = FlowProblem(error).message
            return nil
        }
    }
}

struct SignaturePad: UIViewRepresentable {
    @ObservedObject var model: SignaturePadModel

    func makeUIView(context: Context) -> PadView {
        let view = PadView(model: model)
        model.redraw = { [weak view] in view?.setNeedsDisplay() }
        return view
    }

    func updateUIView(_ uiView: PadView, context: Context) {}

    final class PadView: UIView {
        private let model: SignaturePadModel
        private static let ink = UIColor(red: 0x15 / 255, green: 0x2E / 255, blue: 0x8F / 255, alpha: 1)

        init(model: SignaturePadModel) {
            self.model = model
            super.init(frame: .zero)
            backgroundColor = UIColor(red: 0.99, green: 0.98, blue: 0.96, alpha: 1)
            isMultipleTouchEnabled = false
        }

        @available(*, unavailable)
        required init?(coder: NSCoder) { fatalError("not used") }

        override func layoutSubviews() {
            super.layoutSubviews()
            model.attach(size: bounds.size)
        }

        /// The samples since the last event (coalesced touches), in pad units.
        private func samples(_ touch: UITouch, _ event: UIEvent?) -> [InkPoint] {
            let all = event?.coalescedTouches(for: touch) ?? [touch]
            return all.map { t in
                let p = t.preciseLocation(in: self)
                let pencil = t.type == .pencil
                return InkPoint(
                    x: Float(min(max(p.x, 0), bounds.width)),
                    y: Float(min(max(p.y, 0), bounds.height)),
                    tMs: model.time(t.timestamp),
                    // A finger reports no meaningful pressure: none (0).
                    pressure: pencil && t.maximumPossibleForce > 0 ? Float(t.force / t.maximumPossibleForce) : 0,
                    tilt: pencil ? Float(.pi / 2 - t.altitudeAngle) : nil,
                    azimuth: pencil ? Float(t.azimuthAngle(in: self)) : nil
                )
            }
        }

        override func touchesBegan(_ touches: Set<UITouch>, with event: UIEvent?) {
            if let t = touches.first { model.begin(samples(t, event)) }
        }

        override func touchesMoved(_ touches: Set<UITouch>, with event: UIEvent?) {
            if let t = touches.first { model.add(samples(t, event)) }
        }

        override func touchesEnded(_ touches: Set<UITouch>, with event: UIEvent?) {
            if let t = touches.first { model.end(samples(t, event)) }
        }

        override func touchesCancelled(_ touches: Set<UITouch>, with event: UIEvent?) {
            model.cancel()
        }

        override func draw(_ rect: CGRect) {
            Self.ink.setFill()
            for stroke in model.strokes {
                // Each piece filled on its own: overlapping subpaths of opposite winding would
                // cancel out under the non-zero rule.
                for s in stroke { capsule(s).forEach { $0.fill() } }
            }
        }

        /// A disc at each end and the quad joining their sides: a tapered piece of stroke.
        private func capsule(_ s: InkSegment) -> [UIBezierPath] {
            let a = CGPoint(x: CGFloat(s.ax), y: CGFloat(s.ay))
            let b = CGPoint(x: CGFloat(s.bx), y: CGFloat(s.by))
            let ra = CGFloat(s.ra)
            let rb = CGFloat(s.rb)
            let discs = [
                UIBezierPath(ovalIn: CGRect(x: a.x - ra, y: a.y - ra, width: 2 * ra, height: 2 * ra)),
                UIBezierPath(ovalIn: CGRect(x: b.x - rb, y: b.y - rb, width: 2 * rb, height: 2 * rb)),
            ]
            let len = hypot(b.x - a.x, b.y - a.y)
            guard len > 0.001 else { return discs }
            let n = CGPoint(x: -(b.y - a.y) / len, y: (b.x - a.x) / len)
            let quad = UIBezierPath()
            quad.move(to: CGPoint(x: a.x + n.x * ra, y: a.y + n.y * ra))
            quad.addLine(to: CGPoint(x: b.x + n.x * rb, y: b.y + n.y * rb))
            quad.addLine(to: CGPoint(x: b.x - n.x * rb, y: b.y - n.y * rb))
            quad.addLine(to: CGPoint(x: a.x - n.x * ra, y: a.y - n.y * ra))
            quad.close()
            return discs + [quad]
        }
    }
}
