// The label font of iOS apps: Core Text sets the line, the library receives its outline.
// (Not built here: this machine has no Swift toolchain; see ios/README.md.)

import CoreGraphics
import CoreText
import Foundation

/// Draws signature labels (signer name, date) as outlines with a Core Text font (by default the
/// system font, whose cascade list covers Chinese), so the PDF holds paths and every viewer
/// shows the same label with no font of its own.
///
/// The font is one em (`em` points) large and coordinates are divided by it; Core Text's y
/// already points up, as the library expects. Returns `nil` when the font and its cascade
/// cannot draw every character (a glyph id of 0, the LastResort font, or a bitmap glyph).
public final class CoreTextLabelFont: LabelFont, @unchecked Sendable {
    private let font: CTFont
    private let em: CGFloat = 100

    public init(font: CTFont? = nil) {
        self.font = font.map { CTFontCreateCopyWithAttributes($0, 100, nil, nil) }
            ?? CTFontCreateUIFontForLanguage(.system, 100, "zh-Hans" as CFString)
            ?? CTFontCreateWithName("PingFangSC-Regular" as CFString, 100, nil)
    }

    public func outline(text: String) throws -> TextOutline? {
        let attributed = NSAttributedString(string: text, attributes: [.font: font])
        let line = CTLineCreateWithAttributedString(attributed)
        let path = CGMutablePath()
        guard let runs = CTLineGetGlyphRuns(line) as? [CTRun] else { return nil }
        for run in runs {
            let count = CTRunGetGlyphCount(run)
            var glyphs = [CGGlyph](repeating: 0, count: count)
            var positions = [CGPoint](repeating: .zero, count: count)
            CTRunGetGlyphs(run, CFRange(location: 0, length: count), &glyphs)
            CTRunGetPositions(run, CFRange(location: 0, length: count), &positions)
            let attributes = CTRunGetAttributes(run) as NSDictionary
            // The cascade may have picked another font for this run (e.g. a CJK fallback).
            let runFont = (attributes[kCTFontAttributeName] as CFTypeRef?)
                .flatMap { CFGetTypeID($0) == CTFontGetTypeID() ? ($0 as! CTFont) : nil } ?? font
            // Nothing in the cascade covers it: Core Text draws LastResort's placeholder boxes.
            if (CTFontCopyPostScriptName(runFont) as String) == "LastResort" { return nil }
            for (glyph, position) in zip(glyphs, positions) {
                if glyph == 0 { return nil }
                guard let outline = CTFontCreatePathForGlyph(runFont, glyph, nil) else {
                    // No outline: a blank glyph is fine, a bitmap one (emoji) cannot be drawn.
                    var g = glyph
                    let ink = CTFontGetBoundingRectsForGlyphs(runFont, .horizontal, &g, nil, 1)
                    if ink.width > 0 && ink.height > 0 { return nil }
                    continue
                }
                path.addPath(outline, transform: CGAffineTransform(translationX: position.x, y: position.y))
            }
        }
        var segments: [OutlineSegment] = []
        let e = Double(em)
        path.applyWithBlock { element in
            let p = element.pointee.points
            switch element.pointee.type {
            case .moveToPoint:
                segments.append(.moveTo(x: Double(p[0].x) / e, y: Double(p[0].y) / e))
            case .addLineToPoint:
                segments.append(.lineTo(x: Double(p[0].x) / e, y: Double(p[0].y) / e))
            case .addQuadCurveToPoint:
                segments.append(.quadTo(x1: Double(p[0].x) / e, y1: Double(p[0].y) / e,
                                        x: Double(p[1].x) / e, y: Double(p[1].y) / e))
            case .addCurveToPoint:
                segments.append(.cubicTo(x1: Double(p[0].x) / e, y1: Double(p[0].y) / e,
                                         x2: Double(p[1].x) / e, y2: Double(p[1].y) / e,
                                         x: Double(p[2].x) / e, y: Double(p[2].y) / e))
            case .closeSubpath:
                segments.append(.close)
            @unknown default:
                break
            }
        }
        let advance = CTLineGetTypographicBounds(line, nil, nil, nil) / e
        return TextOutline(advance: advance, segments: segments)
    }
}
