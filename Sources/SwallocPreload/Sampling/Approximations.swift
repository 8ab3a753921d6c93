/// Natural logarithm and exponential without libm (the library links libc
/// only). Accurate to about 1e-12 relative, far more than sampling needs.
enum Approximations {
    static let ln2 = 0.693_147_180_559_945_3

    /// ln(x) for x > 0: x = m·2^e with m in [1, 2), ln m = 2·atanh((m-1)/(m+1)).
    static func log(_ x: Double) -> Double {
        guard x > 0 else { return -Double.infinity }
        let bits = x.bitPattern
        let exponent = Int((bits >> 52) & 0x7FF) - 1023
        let mantissa = Double(bitPattern: (bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000)
        let t = (mantissa - 1) / (mantissa + 1)   // in [0, 1/3)
        let t2 = t * t
        var term = t
        var sum = 0.0
        var k = 1.0
        for _ in 0..<14 {
            sum += term / k
            term *= t2
            k += 2
        }
        return Double(exponent) * ln2 + 2 * sum
    }

    /// e^y for y <= 0 (what the sampling weights need); 0 below -700.
    static func expNegative(_ y: Double) -> Double {
        if y < -700 { return 0 }
        // y = k·ln2 + r, r in [0, ln2): e^y = 2^k · e^r
        // Truncation (cvttsd2si), then down to the floor: no libm call.
        var whole = Int(y / ln2)
        if Double(whole) * ln2 > y { whole -= 1 }
        let k = Double(whole)
        let r = y - k * ln2
        var term = 1.0
        var sum = 1.0
        for n in 1..<18 {
            term *= r / Double(n)
            sum += term
        }
        // 2^k for k in [-1010, 0], built from the exponent bits.
        let scale = Double(bitPattern: UInt64(whole + 1023) << 52)
        return sum * scale
    }
}
