package client

import (
	"bufio"
	"encoding"
	"fmt"
	"io"
	"math/big"
	"reflect"
	"strconv"
)

// Push is a RESP3 out-of-band push message (">"), such as a pub/sub message.
type Push []interface{}

// Reply values produced by the reader, by RESP type:
//
//	simple string, bulk string, verbatim string  string (nil for a null bulk)
//	error, blob error                            *RedisError (a value, not returned as error)
//	integer                                      int64
//	array, set                                   []interface{} (nil for a null array)
//	map                                          map[string]interface{} (keys formatted with fmt.Sprint if not strings)
//	null                                         nil
//	double                                       float64
//	boolean                                      bool
//	big number                                   *big.Int
//	push                                         Push
//
// Attributes ("|") are read and dropped.
type reader struct {
	br *bufio.Reader
}

func protocolError(format string, args ...interface{}) error {
	return fmt.Errorf("%w: %s", ErrProtocol, fmt.Sprintf(format, args...))
}

// readLine returns one line without its CRLF. The slice is only valid until
// the next read.
func (r *reader) readLine() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull { // longer than the buffer: collect the pieces
		long := append([]byte(nil), line...)
		for err == bufio.ErrBufferFull {
			line, err = r.br.ReadSlice('\n')
			long = append(long, line...)
		}
		line = long
	}
	if err != nil {
		return nil, err
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, protocolError("line not terminated by CRLF: %q", line)
	}
	return line[:len(line)-2], nil
}

// readBulk reads n bytes and the CRLF after them.
func (r *reader) readBulk(n int64) ([]byte, error) {
	buf := make([]byte, n+2)
	if _, err := io.ReadFull(r.br, buf); err != nil {
		return nil, err
	}
	if buf[n] != '\r' || buf[n+1] != '\n' {
		return nil, protocolError("bulk string not terminated by CRLF")
	}
	return buf[:n], nil
}

func parseInt(b []byte) (int64, error) {
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, protocolError("invalid integer %q", b)
	}
	return n, nil
}

// readReply reads one complete reply.
func (r *reader) readReply() (interface{}, error) {
	line, err := r.readLine()
	if err != nil {
		return nil, err
	}
	if len(line) == 0 {
		return nil, protocolError("empty reply line")
	}
	kind, payload := line[0], line[1:]
	switch kind {
	case '+':
		return string(payload), nil
	case '-':
		return &RedisError{Message: string(payload)}, nil
	case ':':
		return parseInt(payload)
	case '_':
		return nil, nil
	case ',':
		f, err := strconv.ParseFloat(string(payload), 64) // accepts inf, -inf, nan
		if err != nil {
			return nil, protocolError("invalid double %q", payload)
		}
		return f, nil
	case '#':
		if len(payload) != 1 || (payload[0] != 't' && payload[0] != 'f') {
			return nil, protocolError("invalid boolean %q", payload)
		}
		return payload[0] == 't', nil
	case '(':
		n, ok := new(big.Int).SetString(string(payload), 10)
		if !ok {
			return nil, protocolError("invalid big number %q", payload)
		}
		return n, nil
	case '$', '=', '!':
		return r.readBlob(kind, payload)
	case '*', '~', '>':
		return r.readAggregate(kind, payload)
	case '%':
		return r.readMap(payload)
	case '|':
		if _, err := r.readMap(payload); err != nil {
			return nil, err
		}
		return r.readReply() // attributes describe the next reply: drop them
	}
	return nil, protocolError("unknown reply type %q", kind)
}

func (r *reader) readBlob(kind byte, header []byte) (interface{}, error) {
	n, err := parseInt(header)
	if err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, nil // null bulk string
	}
	data, err := r.readBulk(n)
	if err != nil {
		return nil, err
	}
	switch kind {
	case '!':
		return &RedisError{Message: string(data)}, nil
	case '=': // verbatim string: "txt:" or "mkd:" then the text
		if len(data) < 4 {
			return nil, protocolError("verbatim string without format")
		}
		return string(data[4:]), nil
	}
	return string(data), nil
}

func (r *reader) readItems(n int64) ([]interface{}, error) {
	items := make([]interface{}, n)
	for i := range items {
		item, err := r.readReply()
		if err != nil {
			return nil, err
		}
		items[i] = item
	}
	return items, nil
}

func (r *reader) readAggregate(kind byte, header []byte) (interface{}, error) {
	n, err := parseInt(header)
	if err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, nil // null array
	}
	items, err := r.readItems(n)
	if err != nil {
		return nil, err
	}
	if kind == '>' {
		return Push(items), nil
	}
	return items, nil
}

func (r *reader) readMap(header []byte) (map[string]interface{}, error) {
	n, err := parseInt(header)
	if err != nil {
		return nil, err
	}
	items, err := r.readItems(2 * n)
	if err != nil {
		return nil, err
	}
	m := make(map[string]interface{}, n)
	for i := 0; i < len(items); i += 2 {
		key, ok := items[i].(string)
		if !ok {
			key = fmt.Sprint(items[i])
		}
		m[key] = items[i+1]
	}
	return m, nil
}

// appendCommand appends a command as a RESP array of bulk strings.
func appendCommand(buf []byte, args []interface{}) ([]byte, error) {
	buf = append(buf, '*')
	buf = strconv.AppendInt(buf, int64(len(args)), 10)
	buf = append(buf, '\r', '\n')
	for _, arg := range args {
		s, err := argString(arg)
		if err != nil {
			return nil, err
		}
		buf = append(buf, '$')
		buf = strconv.AppendInt(buf, int64(len(s)), 10)
		buf = append(buf, '\r', '\n')
		buf = append(buf, s...)
		buf = append(buf, '\r', '\n')
	}
	return buf, nil
}

// argString encodes one argument: strings and []byte as they are, numbers in
// decimal, bools as 1/0, time.Duration in nanoseconds (as go-redis does), and
// encoding.BinaryMarshaler values through MarshalBinary.
func argString(arg interface{}) (string, error) {
	switch v := arg.(type) {
	case string:
		return v, nil
	case []byte:
		return string(v), nil
	case int:
		return strconv.Itoa(v), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case bool:
		if v {
			return "1", nil
		}
		return "0", nil
	case encoding.BinaryMarshaler:
		b, err := v.MarshalBinary()
		return string(b), err
	}
	rv := reflect.ValueOf(arg)
	switch rv.Kind() {
	case reflect.String:
		return rv.String(), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(rv.Uint(), 10), nil
	case reflect.Float32:
		return strconv.FormatFloat(rv.Float(), 'f', -1, 32), nil
	case reflect.Float64:
		return strconv.FormatFloat(rv.Float(), 'f', -1, 64), nil
	}
	return "", fmt.Errorf("diskdb: cannot encode argument of type %T (use a string, []byte, number or bool)", arg)
}
