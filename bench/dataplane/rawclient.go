package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"time"
)

// Clients of the load generator.
const (
	clientRaw     = "raw"      // rawClient: HTTP/1.1 written and read by hand on one TCP connection
	clientNetHTTP = "net/http" // net/http's Client and Transport
)

// requester sends one request and checks its response.
type requester interface {
	do() error
	close()
}

// newRequester returns a worker's requester for GET url with the given
// client kind.
func (g *generator) newRequester(rawURL string) (requester, error) {
	if g.kind == clientNetHTTP {
		return g.newHTTPRequester(rawURL)
	}
	return newRawClient(rawURL, g.body)
}

// rawClient is a minimal HTTP/1.1 client for one worker: one keep-alive
// TCP connection (re-dialled after a failure), a request written as
// prepared bytes, and a response parsed only as far as the check needs:
// status line, Content-Type, Content-Length and the body. Like wrk, it
// spends about half the CPU of net/http's client per request, so
// that on a machine shared with the server the generator takes less of
// the CPU the server is measured with. It understands only responses with
// a Content-Length, which both servers send.
type rawClient struct {
	addr string
	req  []byte
	want []byte
	conn net.Conn
	r    *bufio.Reader
	body []byte
}

func newRawClient(rawURL string, want []byte) (*rawClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("the raw client speaks plain http, not %q", u.Scheme)
	}
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUser-Agent: picloud-dataplane\r\n\r\n"
	return &rawClient{addr: u.Host, req: []byte(req), want: want, body: make([]byte, 0, 4096)}, nil
}

func (c *rawClient) do() error {
	if c.conn == nil {
		conn, err := net.DialTimeout("tcp", c.addr, 5*time.Second)
		if err != nil {
			return err
		}
		c.conn = conn
		if c.r == nil {
			c.r = bufio.NewReaderSize(conn, 4096)
		} else {
			c.r.Reset(conn)
		}
	}
	c.conn.SetDeadline(time.Now().Add(10 * time.Second))
	err := c.roundTrip()
	if err != nil {
		c.close()
	}
	return err
}

func (c *rawClient) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

var (
	headerContentType   = []byte("content-type")
	headerContentLength = []byte("content-length")
	headerConnection    = []byte("connection")
)

func (c *rawClient) roundTrip() error {
	if _, err := c.conn.Write(c.req); err != nil {
		return err
	}
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return fmt.Errorf("reading the status line: %w", err)
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return fmt.Errorf("status line %.100q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return fmt.Errorf("status line %.100q", line)
	}
	length, contentType, closing := -1, "", false
	for {
		line, err = c.r.ReadSlice('\n')
		if err != nil {
			return fmt.Errorf("reading the headers: %w", err)
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return fmt.Errorf("header line %.100q", line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, headerContentLength):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 {
				return fmt.Errorf("Content-Length %q", value)
			}
		case bytes.EqualFold(name, headerContentType):
			contentType = string(value)
		case bytes.EqualFold(name, headerConnection):
			closing = bytes.EqualFold(value, []byte("close"))
		}
	}
	if length < 0 {
		return errors.New("a response without Content-Length")
	}
	c.body = c.body[:0]
	if cap(c.body) < length {
		c.body = make([]byte, 0, length)
	}
	c.body = c.body[:length]
	if _, err := io.ReadFull(c.r, c.body); err != nil {
		return fmt.Errorf("reading the body: %w", err)
	}
	if closing {
		c.close()
	}
	switch {
	case status != 200:
		return fmt.Errorf("status %d, body %.100q", status, c.body)
	case contentType != textPlain:
		return fmt.Errorf("Content-Type %q", contentType)
	case !bytes.Equal(c.body, c.want):
		return fmt.Errorf("body %.100q", c.body)
	}
	return nil
}
