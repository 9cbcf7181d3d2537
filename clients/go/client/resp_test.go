package client

import (
	"bufio"
	"bytes"
	"errors"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// parse reads one reply from data, delivered one byte per Read, through a
// minimal-size bufio.Reader, and checks that all input was consumed.
func parse(t *testing.T, data string) interface{} {
	t.Helper()
	br := bufio.NewReaderSize(iotest.OneByteReader(strings.NewReader(data)), 16)
	rd := reader{br: br}
	reply, err := rd.readReply()
	if err != nil {
		t.Fatalf("readReply(%q): %v", data, err)
	}
	if rest, _ := br.Peek(1); len(rest) > 0 {
		t.Fatalf("readReply(%q) left %q unread", data, rest)
	}
	return reply
}

func TestReaderReplyTypes(t *testing.T) {
	big1, _ := new(big.Int).SetString("3492890328409238509324850943850943825024385", 10)
	tests := []struct {
		name, data string
		want       interface{}
	}{
		{"simple", "+OK\r\n", "OK"},
		{"integer", ":42\r\n", int64(42)},
		{"negative", ":-7\r\n", int64(-7)},
		{"bulk", "$5\r\nhello\r\n", "hello"},
		{"empty bulk", "$0\r\n\r\n", ""},
		{"binary bulk", "$4\r\na\r\nb\r\n", "a\r\nb"},
		{"null bulk", "$-1\r\n", nil},
		{"null array", "*-1\r\n", nil},
		{"empty array", "*0\r\n", []interface{}{}},
		{"array", "*3\r\n$1\r\na\r\n:1\r\n$-1\r\n", []interface{}{"a", int64(1), nil}},
		{"nested", "*2\r\n*1\r\n+x\r\n*2\r\n:1\r\n:2\r\n", []interface{}{[]interface{}{"x"}, []interface{}{int64(1), int64(2)}}},
		{"null", "_\r\n", nil},
		{"double", ",3.25\r\n", 3.25},
		{"inf", ",inf\r\n", math.Inf(1)},
		{"-inf", ",-inf\r\n", math.Inf(-1)},
		{"true", "#t\r\n", true},
		{"false", "#f\r\n", false},
		{"verbatim", "=15\r\ntxt:Some string\r\n", "Some string"},
		{"big number", "(3492890328409238509324850943850943825024385\r\n", big1},
		{"map", "%2\r\n+first\r\n:1\r\n$6\r\nsecond\r\n:2\r\n", map[string]interface{}{"first": int64(1), "second": int64(2)}},
		{"map int key", "%1\r\n:7\r\n+v\r\n", map[string]interface{}{"7": "v"}},
		{"set", "~2\r\n+a\r\n+b\r\n", []interface{}{"a", "b"}},
		{"push", ">3\r\n+message\r\n+news\r\n$2\r\nhi\r\n", Push{"message", "news", "hi"}},
		{"attribute", "|1\r\n+key-popularity\r\n*2\r\n$1\r\na\r\n,0.1923\r\n*2\r\n:2039123\r\n:9543892\r\n", []interface{}{int64(2039123), int64(9543892)}},
		{"error", "-ERR unknown command\r\n", &RedisError{Message: "ERR unknown command"}},
		{"blob error", "!21\r\nSYNTAX invalid syntax\r\n", &RedisError{Message: "SYNTAX invalid syntax"}},
		{"error in array", "*2\r\n+OK\r\n-ERR boom\r\n", []interface{}{"OK", &RedisError{Message: "ERR boom"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parse(t, tt.data); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestReaderNaN(t *testing.T) {
	if got := parse(t, ",nan\r\n").(float64); !math.IsNaN(got) {
		t.Errorf("got %v, want NaN", got)
	}
}

func TestReaderLongLinesAndBulks(t *testing.T) {
	long := strings.Repeat("x", 100)
	if got := parse(t, "+"+long+"\r\n"); got != long {
		t.Errorf("long simple string: got %q", got)
	}
	payload := strings.Repeat("\r\n\x00abc", 50000)
	data := "$" + strconv.Itoa(len(payload)) + "\r\n" + payload + "\r\n"
	rd := reader{br: bufio.NewReader(strings.NewReader(data))}
	if got, err := rd.readReply(); err != nil || got != payload {
		t.Errorf("large bulk: err %v, equal %v", err, got == payload)
	}
}

func TestReaderSeveralReplies(t *testing.T) {
	rd := reader{br: bufio.NewReader(strings.NewReader("+OK\r\n:1\r\n$1\r\nx\r\n"))}
	for _, want := range []interface{}{"OK", int64(1), "x"} {
		if got, err := rd.readReply(); err != nil || got != want {
			t.Fatalf("got %v, %v; want %v", got, err, want)
		}
	}
}

func TestReaderMalformed(t *testing.T) {
	for _, data := range []string{"?x\r\n", "$3\r\nabcd\r\n", ":12x\r\n", "#x\r\n", "\r\n", "+OK\n"} {
		rd := reader{br: bufio.NewReader(strings.NewReader(data))}
		if _, err := rd.readReply(); !errors.Is(err, ErrProtocol) {
			t.Errorf("%q: got %v, want ErrProtocol", data, err)
		}
	}
	rd := reader{br: bufio.NewReader(strings.NewReader("*2\r\n+OK\r\n"))}
	if _, err := rd.readReply(); err == nil || errors.Is(err, ErrProtocol) {
		t.Errorf("truncated reply: got %v, want an EOF error", err)
	}
}

type bin struct{}

func (bin) MarshalBinary() ([]byte, error) { return []byte("B"), nil }

func TestAppendCommand(t *testing.T) {
	type myInt int
	got, err := appendCommand(nil, []interface{}{"SET", []byte("k\r\n"), 12, int64(-3), 2.5, true, uint8(7), myInt(9), time.Second, bin{}})
	if err != nil {
		t.Fatal(err)
	}
	want := "*10\r\n$3\r\nSET\r\n$3\r\nk\r\n\r\n$2\r\n12\r\n$2\r\n-3\r\n$3\r\n2.5\r\n$1\r\n1\r\n$1\r\n7\r\n$1\r\n9\r\n$10\r\n1000000000\r\n$1\r\nB\r\n"
	if string(got) != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if _, err := appendCommand(nil, []interface{}{"SET", struct{}{}}); err == nil {
		t.Error("struct argument: want an error")
	}
	// A request is itself a RESP array of bulk strings.
	rd := reader{br: bufio.NewReader(bytes.NewReader(got))}
	if reply, _ := rd.readReply(); len(reply.([]interface{})) != 10 {
		t.Errorf("round trip: got %v", reply)
	}
}

func TestErrorMatching(t *testing.T) {
	var err error = &RedisError{Message: "WRONGTYPE Operation against a key holding the wrong kind of value"}
	if !errors.Is(err, ErrWrongType) || errors.Is(err, ErrAuth) {
		t.Error("WRONGTYPE should match ErrWrongType only")
	}
	if e := (&RedisError{Message: "WRONGPASS invalid"}); !errors.Is(e, ErrAuth) || e.Code() != "WRONGPASS" {
		t.Error("WRONGPASS should match ErrAuth")
	}
	if errors.Is(&RedisError{Message: "ERR syntax error"}, ErrWrongType) {
		t.Error("ERR should not match ErrWrongType")
	}
}

func TestConverters(t *testing.T) {
	resp2 := []interface{}{"a", "1", "b", "2.5"}
	resp3 := []interface{}{[]interface{}{"a", 1.0}, []interface{}{"b", 2.5}}
	want := []Z{{Score: 1, Member: "a"}, {Score: 2.5, Member: "b"}}
	for _, reply := range []interface{}{resp2, resp3} {
		if got, err := toZSlice(reply); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("toZSlice(%v) = %v, %v", reply, got, err)
		}
	}
	wantMap := map[string]string{"f": "v", "n": "1"}
	for _, reply := range []interface{}{[]interface{}{"f", "v", "n", "1"}, map[string]interface{}{"f": "v", "n": int64(1)}} {
		if got, err := toStringMap(reply); err != nil || !reflect.DeepEqual(got, wantMap) {
			t.Errorf("toStringMap(%v) = %v, %v", reply, got, err)
		}
	}
	if _, err := toStringMap([]interface{}{"odd"}); err == nil {
		t.Error("odd key/value array: want an error")
	}
	if b, err := toBool(true); !b || err != nil {
		t.Error("toBool(RESP3 true)")
	}
	if _, err := String(nil, ErrNil); err != ErrNil {
		t.Errorf("String(nil, ErrNil) error = %v, want ErrNil", err)
	}
	msgs, err := toXMessages([]interface{}{[]interface{}{"1-0", []interface{}{"f", "v"}}, []interface{}{"2-0", nil}})
	if err != nil || !reflect.DeepEqual(msgs, []XMessage{{ID: "1-0", Values: map[string]interface{}{"f": "v"}}, {ID: "2-0"}}) {
		t.Errorf("toXMessages = %v, %v", msgs, err)
	}
}

func TestDurationArgs(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want []interface{}
	}{
		{0, nil},
		{KeepTTL, []interface{}{"KEEPTTL"}},
		{2 * time.Second, []interface{}{"EX", int64(2)}},
		{1500 * time.Millisecond, []interface{}{"PX", int64(1500)}},
		{time.Microsecond, []interface{}{"PX", 1}},
	}
	for _, tt := range tests {
		if got := durationArgs(tt.d); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("durationArgs(%v) = %v, want %v", tt.d, got, tt.want)
		}
	}
}
