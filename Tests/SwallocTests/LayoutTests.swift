import Swalloc
import XCTest

final class LayoutTests: XCTestCase {
    func testValidLayouts() throws {
        let layout = try Layout(size: 24, alignment: 8)
        XCTAssertEqual(layout.size, 24)
        XCTAssertEqual(layout.alignment, 8)
        XCTAssertEqual(try Layout(size: 0, alignment: 1).size, 0, "zero-sized layouts are valid")
        XCTAssertEqual(try Layout(size: Int.max - 4095, alignment: 4096).alignment, 4096)
    }

    func testAlignmentMustBeAPowerOfTwo() {
        for alignment in [0, 3, 6, 12, -8] {
            XCTAssertThrowsError(try Layout(size: 8, alignment: alignment)) { error in
                XCTAssertEqual(error as? LayoutError, .alignmentNotPowerOfTwo(alignment))
            }
        }
    }

    func testSizeRoundedToAlignmentMustNotOverflow() {
        XCTAssertThrowsError(try Layout(size: Int.max, alignment: 2)) { error in
            XCTAssertEqual(error as? LayoutError, .sizeOverflow)
        }
        XCTAssertThrowsError(try Layout(size: -1, alignment: 8))
    }

    func testOfAndArray() throws {
        XCTAssertEqual(Layout.of(Int64.self), try Layout(size: 8, alignment: 8))
        XCTAssertEqual(try Layout.array(of: Int32.self, count: 10), try Layout(size: 40, alignment: 4))
        XCTAssertThrowsError(try Layout.array(of: Int64.self, count: Int.max / 4))
        XCTAssertThrowsError(try Layout.array(of: Int64.self, count: -1))
    }

    func testRustHelpers() throws {
        XCTAssertEqual(try Layout(size: 13, alignment: 8).padded, try Layout(size: 16, alignment: 8))
        // struct { UInt8; UInt64; UInt16 }
        let (twoFields, second) = try Layout.of(UInt8.self).extended(by: Layout.of(UInt64.self))
        XCTAssertEqual(second, 8)
        let (threeFields, third) = try twoFields.extended(by: Layout.of(UInt16.self))
        XCTAssertEqual(third, 16)
        XCTAssertEqual(threeFields, try Layout(size: 18, alignment: 8))
        XCTAssertEqual(threeFields.padded.size, 24)
        let (array, stride) = try threeFields.repeated(10)
        XCTAssertEqual(stride, 24)
        XCTAssertEqual(array.size, 240)
        XCTAssertThrowsError(try threeFields.repeated(Int.max / 2))
        XCTAssertEqual(try Layout(size: 8, alignment: 8).aligned(to: 64).alignment, 64)
        XCTAssertEqual(Int(bitPattern: try Layout(size: 0, alignment: 256).danglingPointer) % 256, 0)
    }

    /// Rust's `for_value`, `extend_packed`, `repeat_packed` and
    /// `padding_needed_for`, with their overflow edges.
    func testPackedHelpersAndPadding() throws {
        let pair: (UInt8, UInt64) = (1, 2)
        XCTAssertEqual(Layout.of(value: pair), Layout.of((UInt8, UInt64).self))
        XCTAssertEqual(Layout.of(value: pair).size, 16)

        // extend_packed: sizes add, the first alignment stays.
        let packed = try Layout(size: 13, alignment: 8).extendedPacked(by: try Layout(size: 3, alignment: 4))
        XCTAssertEqual(packed, try Layout(size: 16, alignment: 8))
        XCTAssertEqual(try Layout(size: 1, alignment: 1).extendedPacked(by: .of(UInt64.self)),
                       try Layout(size: 9, alignment: 1))
        XCTAssertThrowsError(try Layout(size: Int.max - 7, alignment: 8)
            .extendedPacked(by: try Layout(size: 1, alignment: 1)))  // rounding to 8 overflows
        XCTAssertThrowsError(try Layout(size: Int.max, alignment: 1)
            .extendedPacked(by: try Layout(size: 1, alignment: 1)))  // the sum overflows

        // repeat_packed: size × count, no padding between copies.
        XCTAssertEqual(try Layout(size: 3, alignment: 1).repeatedPacked(5), try Layout(size: 15, alignment: 1))
        XCTAssertEqual(try Layout(size: 13, alignment: 8).repeatedPacked(2), try Layout(size: 26, alignment: 8))
        XCTAssertEqual(try Layout(size: 13, alignment: 8).repeatedPacked(0), try Layout(size: 0, alignment: 8))
        XCTAssertThrowsError(try Layout(size: 2, alignment: 1).repeatedPacked(Int.max / 2 + 1))
        XCTAssertThrowsError(try Layout(size: 2, alignment: 1).repeatedPacked(-1))

        // padding_needed_for.
        XCTAssertEqual(try Layout(size: 13, alignment: 8).paddingNeeded(for: 8), 3)
        XCTAssertEqual(try Layout(size: 13, alignment: 8).paddingNeeded(for: 4), 3)
        XCTAssertEqual(try Layout(size: 13, alignment: 8).paddingNeeded(for: 1), 0)
        XCTAssertEqual(try Layout(size: 16, alignment: 16).paddingNeeded(for: 16), 0)
        XCTAssertEqual(try Layout(size: 0, alignment: 1).paddingNeeded(for: 64), 0)
        // The padding is what extended(by:) puts before the next field.
        let first = try Layout(size: 5, alignment: 4)
        let (_, offset) = try first.extended(by: .of(UInt32.self))
        XCTAssertEqual(offset, first.size + first.paddingNeeded(for: 4))
    }
}
