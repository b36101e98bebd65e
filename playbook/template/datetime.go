package template

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// object is a Python object of the template layer that is no plain value:
// the datetime and timedelta that now(), to_datetime and their arithmetic
// give. The evaluator asks it for its type, text, attributes and methods.
type object interface {
	typeName() string
	String() string // str()
	repr() string
	attr(name string) (any, bool)
	hasMethod(name string) bool
	callMethod(name string, args []any, kw map[string]any) (any, error)
}

// dateTime is Python's naive datetime.datetime.
type dateTime struct{ t time.Time }

var (
	_ object = dateTime{}
	_ object = timeDelta{}
)

func (dateTime) typeName() string { return "datetime" }

// String is str(datetime): microseconds only when there are some.
func (d dateTime) String() string {
	if d.t.Nanosecond()/1000 != 0 {
		return d.t.Format("2006-01-02 15:04:05.000000")
	}
	return d.t.Format("2006-01-02 15:04:05")
}

func (d dateTime) repr() string {
	parts := []int{d.t.Year(), int(d.t.Month()), d.t.Day(), d.t.Hour(), d.t.Minute()}
	if us := d.t.Nanosecond() / 1000; us != 0 {
		parts = append(parts, d.t.Second(), us)
	} else if d.t.Second() != 0 {
		parts = append(parts, d.t.Second())
	}
	s := make([]string, len(parts))
	for i, p := range parts {
		s[i] = strconv.Itoa(p)
	}
	return "datetime.datetime(" + strings.Join(s, ", ") + ")"
}

func (d dateTime) isoformat() string { return strings.Replace(d.String(), " ", "T", 1) }

// MarshalJSON writes the isoformat, as Ansible's JSON encoder does.
func (d dateTime) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(d.isoformat())), nil }

func (d dateTime) attr(name string) (any, bool) {
	switch name {
	case "year":
		return int64(d.t.Year()), true
	case "month":
		return int64(d.t.Month()), true
	case "day":
		return int64(d.t.Day()), true
	case "hour":
		return int64(d.t.Hour()), true
	case "minute":
		return int64(d.t.Minute()), true
	case "second":
		return int64(d.t.Second()), true
	case "microsecond":
		return int64(d.t.Nanosecond() / 1000), true
	}
	return nil, false
}

var dateTimeMethods = map[string]bool{"strftime": true, "isoformat": true, "timestamp": true, "weekday": true, "isoweekday": true, "date": true}

func (dateTime) hasMethod(name string) bool { return dateTimeMethods[name] }

func (d dateTime) callMethod(name string, args []any, kw map[string]any) (any, error) {
	switch name {
	case "strftime":
		return pyStrftime(ToString(arg(args, kw, 0, "format", "")), d.t, true), nil
	case "isoformat":
		return d.isoformat(), nil
	case "timestamp":
		// A naive datetime is local time, as Python reads it.
		local := time.Date(d.t.Year(), d.t.Month(), d.t.Day(), d.t.Hour(), d.t.Minute(), d.t.Second(), d.t.Nanosecond(), time.Local)
		return float64(local.UnixMicro()) / 1e6, nil
	case "weekday":
		return int64((d.t.Weekday() + 6) % 7), nil
	case "isoweekday":
		return int64((d.t.Weekday()+6)%7 + 1), nil
	case "date":
		return d.t.Format("2006-01-02"), nil
	}
	return nil, fmt.Errorf("no method %s", name)
}

// timeDelta is Python's datetime.timedelta.
type timeDelta struct{ d time.Duration }

func (timeDelta) typeName() string { return "timedelta" }

// parts are Python's normalized days, seconds and microseconds: seconds
// and microseconds never negative.
func (td timeDelta) parts() (days, secs, us int64) {
	total := td.d.Microseconds()
	days = total / 86_400_000_000
	rest := total % 86_400_000_000
	if rest < 0 {
		days--
		rest += 86_400_000_000
	}
	return days, rest / 1_000_000, rest % 1_000_000
}

// String is str(timedelta): "2 days, 1:02:03.000004".
func (td timeDelta) String() string {
	days, secs, us := td.parts()
	s := fmt.Sprintf("%d:%02d:%02d", secs/3600, secs/60%60, secs%60)
	if us != 0 {
		s += fmt.Sprintf(".%06d", us)
	}
	if days != 0 {
		plural := "s"
		if days == 1 || days == -1 {
			plural = ""
		}
		s = fmt.Sprintf("%d day%s, %s", days, plural, s)
	}
	return s
}

func (td timeDelta) repr() string {
	days, secs, us := td.parts()
	var parts []string
	for _, p := range []struct {
		name string
		n    int64
	}{{"days", days}, {"seconds", secs}, {"microseconds", us}} {
		if p.n != 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", p.name, p.n))
		}
	}
	if len(parts) == 0 {
		return "datetime.timedelta(0)"
	}
	return "datetime.timedelta(" + strings.Join(parts, ", ") + ")"
}

// MarshalJSON writes str(timedelta), as Ansible's JSON encoder does.
func (td timeDelta) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(td.String())), nil }

func (td timeDelta) attr(name string) (any, bool) {
	days, secs, us := td.parts()
	switch name {
	case "days":
		return days, true
	case "seconds":
		return secs, true
	case "microseconds":
		return us, true
	}
	return nil, false
}

func (timeDelta) hasMethod(name string) bool { return name == "total_seconds" }

func (td timeDelta) callMethod(name string, _ []any, _ map[string]any) (any, error) {
	if name == "total_seconds" {
		return float64(td.d.Microseconds()) / 1e6, nil
	}
	return nil, fmt.Errorf("no method %s", name)
}

// dateArith is Python's arithmetic and ordering on datetimes and
// timedeltas; ok is false when neither side is one.
func dateArith(op string, l, r any) (v any, ok bool, err error) {
	ld, lIsDate := l.(dateTime)
	rd, rIsDate := r.(dateTime)
	lt, lIsDelta := l.(timeDelta)
	rt, rIsDelta := r.(timeDelta)
	if !lIsDate && !rIsDate && !lIsDelta && !rIsDelta {
		return nil, false, nil
	}
	switch {
	case op == "-" && lIsDate && rIsDate:
		return timeDelta{ld.t.Sub(rd.t)}, true, nil
	case op == "-" && lIsDate && rIsDelta:
		return dateTime{ld.t.Add(-rt.d)}, true, nil
	case op == "+" && lIsDate && rIsDelta:
		return dateTime{ld.t.Add(rt.d)}, true, nil
	case op == "+" && lIsDelta && rIsDate:
		return dateTime{rd.t.Add(lt.d)}, true, nil
	case op == "+" && lIsDelta && rIsDelta:
		return timeDelta{lt.d + rt.d}, true, nil
	case op == "-" && lIsDelta && rIsDelta:
		return timeDelta{lt.d - rt.d}, true, nil
	}
	return nil, true, fmt.Errorf("unsupported operand type(s) for %s: '%s' and '%s'", op, typeName(l), typeName(r))
}

// compareDates orders two datetimes or two timedeltas; ok is false for
// other values.
func compareDates(a, b any) (c int, ok bool) {
	switch x := a.(type) {
	case dateTime:
		if y, isDate := b.(dateTime); isDate {
			return x.t.Compare(y.t), true
		}
	case timeDelta:
		if y, isDelta := b.(timeDelta); isDelta {
			return cmpInt(int(x.d), int(y.d)), true
		}
	}
	return 0, false
}

// now is Ansible's now(utc=False, fmt=None): the controller's time as a
// naive datetime, or formatted with fmt.
func now(args []any, kw map[string]any) (any, error) {
	t := time.Now()
	if truthy(arg(args, kw, 0, "utc", false)) {
		t = t.UTC()
	}
	t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond()/1000*1000, time.UTC)
	if f := arg(args, kw, 1, "fmt", nil); f != nil {
		return pyStrftime(ToString(f), t, true), nil
	}
	return dateTime{t}, nil
}

// fStrftime is Ansible's strftime: the input is the format, of the
// controller's time now or of the epoch seconds second, in local time or
// UTC.
func fStrftime(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	t := time.Now()
	if s := arg(args, kw, 0, "second", nil); s != nil {
		f, ok := toFloat(s)
		if !ok {
			if f, ok = parseFloatString(ToString(s)); !ok {
				return nil, fmt.Errorf("Invalid value for epoch value (%s)", ToString(s))
			}
		}
		t = time.Unix(0, int64(f*1e9))
	}
	if truthy(arg(args, kw, 1, "utc", false)) {
		t = t.UTC()
	} else {
		t = t.Local()
	}
	return pyStrftime(ToString(in), t, false), nil
}

func parseFloatString(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return f, err == nil
}

// fToDatetime is Ansible's to_datetime: datetime.strptime(string, format),
// format "%Y-%m-%d %H:%M:%S" unless given.
func fToDatetime(_ *evaluator, in any, args []any, kw map[string]any) (any, error) {
	format := ToString(arg(args, kw, 0, "format", "%Y-%m-%d %H:%M:%S"))
	t, err := pyStrptime(ToString(in), format)
	if err != nil {
		return nil, err
	}
	return dateTime{t}, nil
}

var weekdays = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}

// pyStrftime formats t as C's strftime does in the C locale, for the
// directives Python documents. A naive datetime (naive) has no zone: %z
// and %Z give nothing, as Python's datetime.strftime does.
func pyStrftime(f string, t time.Time, naive bool) string {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 == len(f) {
			b.WriteByte(f[i])
			continue
		}
		i++
		switch f[i] {
		case 'a':
			b.WriteString(weekdays[t.Weekday()][:3])
		case 'A':
			b.WriteString(weekdays[t.Weekday()])
		case 'w':
			b.WriteString(strconv.Itoa(int(t.Weekday())))
		case 'u':
			b.WriteString(strconv.Itoa(int((t.Weekday()+6)%7 + 1)))
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'e':
			fmt.Fprintf(&b, "%2d", t.Day())
		case 'b', 'h':
			b.WriteString(t.Month().String()[:3])
		case 'B':
			b.WriteString(t.Month().String())
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'y':
			fmt.Fprintf(&b, "%02d", t.Year()%100)
		case 'Y':
			b.WriteString(strconv.Itoa(t.Year()))
		case 'C':
			fmt.Fprintf(&b, "%02d", t.Year()/100)
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'k':
			fmt.Fprintf(&b, "%2d", t.Hour())
		case 'I':
			fmt.Fprintf(&b, "%02d", (t.Hour()+11)%12+1)
		case 'l':
			fmt.Fprintf(&b, "%2d", (t.Hour()+11)%12+1)
		case 'p':
			if t.Hour() < 12 {
				b.WriteString("AM")
			} else {
				b.WriteString("PM")
			}
		case 'M':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case 'S':
			fmt.Fprintf(&b, "%02d", t.Second())
		case 'f':
			fmt.Fprintf(&b, "%06d", t.Nanosecond()/1000)
		case 'z':
			if !naive {
				b.WriteString(t.Format("-0700"))
			}
		case 'Z':
			if !naive {
				b.WriteString(t.Format("MST"))
			}
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case 's':
			b.WriteString(strconv.FormatInt(t.Unix(), 10))
		case 'U':
			fmt.Fprintf(&b, "%02d", (t.YearDay()+6-int(t.Weekday()))/7)
		case 'W':
			fmt.Fprintf(&b, "%02d", (t.YearDay()+6-int((t.Weekday()+6)%7))/7)
		case 'V':
			_, w := t.ISOWeek()
			fmt.Fprintf(&b, "%02d", w)
		case 'G':
			y, _ := t.ISOWeek()
			b.WriteString(strconv.Itoa(y))
		case 'c':
			b.WriteString(pyStrftime("%a %b %e %H:%M:%S %Y", t, naive))
		case 'x', 'D':
			b.WriteString(pyStrftime("%m/%d/%y", t, naive))
		case 'X', 'T':
			b.WriteString(pyStrftime("%H:%M:%S", t, naive))
		case 'F':
			b.WriteString(pyStrftime("%Y-%m-%d", t, naive))
		case 'R':
			b.WriteString(pyStrftime("%H:%M", t, naive))
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(f[i])
		}
	}
	return b.String()
}

// strptimeLayouts are the Go layouts of Python's strptime directives that
// Go can read; the number ones without padding, as strptime takes both.
var strptimeLayouts = map[byte]string{
	'Y': "2006", 'y': "06", 'm': "1", 'd': "2", 'H': "15", 'I': "3", 'M': "4", 'S': "5",
	'b': "Jan", 'B': "January", 'a': "Mon", 'A': "Monday", 'p': "PM", 'z': "-0700", 'Z': "MST", 'j': "002",
}

// pyStrptime reads s as datetime.strptime(s, f) does, as a naive datetime.
func pyStrptime(s, f string) (time.Time, error) {
	var layout strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 == len(f) {
			layout.WriteByte(f[i])
			continue
		}
		i++
		switch c := f[i]; {
		case c == '%':
			layout.WriteByte('%')
		case c == 'f':
			if layout.Len() == 0 || !strings.HasSuffix(layout.String(), ".") {
				return time.Time{}, fmt.Errorf("to_datetime: %%f only after a dot is supported, in %q", f)
			}
			l := layout.String()
			layout.Reset()
			layout.WriteString(strings.TrimSuffix(l, ".") + ".999999")
		case strptimeLayouts[c] != "":
			layout.WriteString(strptimeLayouts[c])
		default:
			return time.Time{}, fmt.Errorf("to_datetime: '%%%c' is a bad directive in format %q", c, f)
		}
	}
	t, err := time.Parse(layout.String(), s)
	if err != nil {
		return time.Time{}, fmt.Errorf("time data %q does not match format %q", s, f)
	}
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC), nil
}
