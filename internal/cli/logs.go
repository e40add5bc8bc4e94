package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/picloud/picloud/internal/client"
)

func logsCmd() *command {
	return &command{
		name:  "logs",
		args:  "APP [--script NAME] [--status ok|error|timeout|limit] [--limit N] | show ID",
		short: "list an app's invocation logs, newest first, or show one record",
		long: `'pic logs APP' lists the app's invocation records, newest first (the
server returns 100 unless --limit says otherwise, at most 1000). The table
truncates summaries to 60 characters with an ellipsis; --output json has
them in full.

'pic logs show ID' shows one record with its captured print/debug output:
the table's row (with the whole summary), then, when there is output, an
empty line and the output.`,
		run: runLogs,
	}
}

type logsOptions struct {
	App    string
	Filter client.LogFilter
}

var logStatuses = []string{"ok", "error", "timeout", "limit"}

func runLogs(p *pic, c *command, args []string) error {
	var opts logsOptions
	f := newFlags(c)
	f.stringVar(&opts.Filter.Script, "script", "NAME", "only this script's records")
	f.stringVar(&opts.Filter.Status, "status", "STATUS", "only records with this status: "+strings.Join(logStatuses, ", "))
	f.intVar(&opts.Filter.Limit, "limit", "N", "at most N records (1 to 1000; default 100)")
	pos, err := p.parse(c, f, args, 1, 2)
	if err != nil {
		return err
	}
	// "logs show ID" shows a record; "logs show" lists the logs of an app
	// named "show".
	if len(pos) == 2 {
		if pos[0] != "show" {
			return usagef(c, "too many arguments (%s); expected APP, or show ID", pos[1])
		}
		if f.isSet("script", "status", "limit") {
			return usagef(c, "--script, --status and --limit filter a list, not 'logs show'")
		}
		return p.showLog(pos[1])
	}
	opts.App = pos[0]
	if opts.Filter.Status != "" && !slices.Contains(logStatuses, opts.Filter.Status) {
		return usagef(c, "invalid --status %q: use %s", opts.Filter.Status, strings.Join(logStatuses, ", "))
	}
	if f.isSet("limit") && opts.Filter.Limit < 1 {
		return usagef(c, "--limit must be 1 or more")
	}
	cl, err := p.client()
	if err != nil {
		return err
	}
	logs, err := cl.ListLogs(p.ctx, opts.App, opts.Filter)
	if err != nil {
		return err
	}
	t := logsTable()
	for _, inv := range logs {
		addLogRow(t, inv, truncate(inv.Summary, summaryWidth))
	}
	return p.print(logs, t)
}

// logsTable is the table of invocation records.
func logsTable() *table {
	return newTable("ID", "SCRIPT", "VERSION", "TRIGGER", "STATUS", "HTTP", "DURATION", "STARTED", "SUMMARY")
}

func addLogRow(t *table, inv client.Invocation, summary string) {
	t.add(inv.ID, inv.Script, intCell(inv.Version), inv.Trigger, inv.Status, intCell(inv.HTTPStatus),
		durationCell(inv.DurationMS), timeCell(inv.StartedAt), summary)
}

func (p *pic) showLog(id string) error {
	cl, err := p.client()
	if err != nil {
		return err
	}
	inv, err := cl.GetLog(p.ctx, id)
	if err != nil {
		return err
	}
	if p.isJSON() {
		return writeJSON(p.io.Out, inv)
	}
	t := logsTable()
	addLogRow(t, *inv, inv.Summary)
	if err := writeTable(p.io.Out, t); err != nil {
		return err
	}
	if inv.Output != nil && *inv.Output != "" {
		out := *inv.Output
		if !strings.HasSuffix(out, "\n") {
			out += "\n"
		}
		if _, err := io.WriteString(p.io.Out, "\n"+out); err != nil {
			return fmt.Errorf("writing the output: %w", err)
		}
	}
	return nil
}
