package hipaa

import "strconv"

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
