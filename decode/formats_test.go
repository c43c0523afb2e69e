package decode_test

// Every decoder vigil ships, for the tests of this package that run across
// formats (sniffing, ground truth).
import _ "github.com/vigil-sec/vigil/decode/all"
