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
}
