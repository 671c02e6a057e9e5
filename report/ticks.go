package report

import (
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
)

// linearTicks places about six labelled ticks at round values (steps of
// 1, 2 or 5 times a power of ten).
type linearTicks struct{}

// Ticks implements plot.Ticker.
func (linearTicks) Ticks(min, max float64) []plot.Tick {
	if !(max > min) {
		return []plot.Tick{{Value: min, Label: formatTick(min, 0, false)}}
	}
	step, decimals := niceStep((max - min) / 5)
	exp := math.Max(math.Abs(min), math.Abs(max)) >= 1e6 || decimals > 5
	var out []plot.Tick
	k0 := math.Ceil(min/step - 1e-9)
	for k := k0; k*step <= max+step*1e-9; k++ {
		v := k * step
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		out = append(out, plot.Tick{Value: v, Label: formatTick(v, decimals, exp)})
	}
	return out
}

// niceStep rounds raw to the nearest of 1, 2 or 5 times a power of ten
// and returns it with the number of decimals its multiples need.
func niceStep(raw float64) (step float64, decimals int) {
	e := math.Floor(math.Log10(raw))
	base := math.Pow(10, e)
	var m float64
	switch f := raw / base; {
	case f < 1.5:
		m = 1
	case f < 3:
		m = 2
	case f < 7:
		m = 5
	default:
		m = 10
	}
	step = m * base
	decimals = max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	return step, decimals
}

// formatTick formats a tick value with the given number of decimals, or
// in exponent notation.
func formatTick(v float64, decimals int, exp bool) string {
	if v == 0 {
		if exp {
			return "0"
		}
		return "0" + decimalZeros(decimals)
	}
	if exp {
		return expForm(v)
	}
	return strconv.FormatFloat(v, 'f', decimals, 64)
}

func decimalZeros(n int) string {
	if n <= 0 {
		return ""
	}
	return "." + strings.Repeat("0", n)
}

// expForm formats v as "2.5e-7" (not "2.5e-07").
func expForm(v float64) string {
	s := strconv.FormatFloat(v, 'e', -1, 64)
	mant, exp, _ := strings.Cut(s, "e")
	sign := ""
	if exp[0] == '-' {
		sign = "-"
	}
	exp = strings.TrimLeft(exp[1:], "0")
	if exp == "" {
		exp = "0"
	}
	return mant + "e" + sign + exp
}

// logTicks labels the powers of ten of a log axis, with unlabelled ticks
// at 2…9 times each. When the axis spans more than eight decades only
// every few decades are labelled and the 2…9 ticks are left out; when it
// spans less than about two, 2× and 5× are labelled too, and on one too
// narrow even for that it falls back to linear ticks. Labels are plain
// decimals from 0.0001 to 100000, else all in exponent notation.
type logTicks struct{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(min, max float64) []plot.Tick {
	lo := math.Floor(math.Log10(min))
	hi := math.Ceil(math.Log10(max))
	dense := math.Log10(max/min) < 1.6
	every := math.Max(1, math.Ceil((hi-lo)/8))
	in := func(v float64) bool { return v >= min*(1-1e-9) && v <= max*(1+1e-9) }
	var out []plot.Tick
	exp := false
	for e := lo; e <= hi; e++ {
		base := math.Pow(10, e)
		for m := 1; m < 10; m++ {
			if m > 1 && every > 1 {
				break
			}
			v := float64(m) * base
			if !in(v) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 && math.Mod(e, every) == 0 || dense && (m == 2 || m == 5) {
				t.Label = "x" // formatted below
				if v < 1e-4 || v >= 1e6 {
					exp = true
				}
			}
			out = append(out, t)
		}
	}
	labelled := 0
	for i, t := range out {
		if t.Label == "" {
			continue
		}
		labelled++
		if exp {
			out[i].Label = expForm(t.Value)
		} else {
			out[i].Label = strconv.FormatFloat(t.Value, 'f', -1, 64)
		}
	}
	if labelled < 2 {
		return linearTicks{}.Ticks(min, max)
	}
	return out
}
