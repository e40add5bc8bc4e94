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
		args:  "APP [--script NAME] [--status STATUS] [--http-status CODE] [--limit N | --follow [--after ID]] | show ID | replay ID [--version N] [--force]",
		short: "list an app's invocation logs or jobs, newest first, follow them live, show or replay one",
		long: `'pic logs APP' lists the app's invocation records, newest first (the
server returns 100 unless --limit says otherwise, at most 1000). The table
truncates summaries to 60 characters with an ellipsis; --output json has
them in full. --status ok, error, timeout or limit lists the records with
that status; --status queued, running or dead lists the async jobs and
schedule firings in that state instead, with their attempts. The status
says how the run went: a script that answers 422 itself ran fine (ok).
--http-status 404 or --http-status 4xx lists the records by the HTTP
status their caller got, so --http-status 4xx finds a script's client
errors.

'pic logs show ID' shows one record with its captured print/debug output:
the table's row (with the whole summary), then, when there is output, an
empty line and the output. For the id of a job (what 'pic invoke --async'
prints), it shows the job's row, an empty line, and the records of its
attempts, newest first. A record of an HTTP request also shows the
request and the response that were recorded (see docs/api.md for what is
left out).

'pic logs APP --follow' (-f) prints the app's new records as they are
written, one row each (one JSON object per line with --output json),
until interrupted with Ctrl-C (exit 0); --script, --status (ok,
error, timeout, limit) and --http-status filter them, and --after ID first prints the
records after that one. A record shows about one log flush interval
(500ms by default) after its run. A dropped connection is resumed where it
stopped.

'pic logs replay ID' runs the request recorded with an invocation again,
against the live version of its script or --version N, and shows the
recorded response and the replay's side by side. The replay really runs
the script: its writes and outbound requests happen again. --force
replays a request whose body was cut when it was recorded. It exits 0
when the replay ran, whether or not the responses differ.`,
		run: runLogs,
	}
}

type logsOptions struct {
	App    string
	Filter client.LogFilter
}

var (
	logStatuses = []string{"ok", "error", "timeout", "limit"}
	jobStatuses = []string{"queued", "running", "dead"}
)

func runLogs(p *pic, c *command, args []string) error {
	var (
		opts logsOptions
		live liveOptions
	)
	f := newFlags(c)
	f.stringVar(&opts.Filter.Script, "script", "NAME", "only this script's records")
	f.stringVar(&opts.Filter.Status, "status", "STATUS", "only records with this status ("+strings.Join(logStatuses, ", ")+"), or jobs in this state ("+strings.Join(jobStatuses, ", ")+")")
	f.stringVar(&opts.Filter.HTTPStatus, "http-status", "CODE", "only records whose caller got this HTTP status (404) or class (4xx)")
	f.intVar(&opts.Filter.Limit, "limit", "N", "at most N records (1 to 1000; default 100)")
	live.flags(f)
	pos, err := p.parse(c, f, args, 1, 2)
	if err != nil {
		return err
	}
	// "logs show ID" shows a record, "logs replay ID" replays one; "logs
	// show" lists the logs of an app named "show".
	if len(pos) == 2 {
		switch pos[0] {
		case "show", "replay":
		default:
			return usagef(c, "too many arguments (%s); expected APP, show ID or replay ID", pos[1])
		}
		if f.isSet("script", "status", "http-status", "limit") {
			return usagef(c, "--script, --status, --http-status and --limit filter a list, not 'logs %s'", pos[0])
		}
		if f.isSet("f", "follow", "after") {
			return usagef(c, "--follow and --after follow an app's logs, not 'logs %s'", pos[0])
		}
		if pos[0] == "replay" {
			return p.replayLog(c, pos[1], live)
		}
		if f.isSet("version", "force") {
			return usagef(c, "--version and --force are for 'logs replay'")
		}
		return p.showLog(pos[1])
	}
	if f.isSet("version", "force") {
		return usagef(c, "--version and --force are for 'logs replay ID'")
	}
	opts.App = pos[0]
	jobs := slices.Contains(jobStatuses, opts.Filter.Status)
	if opts.Filter.Status != "" && !jobs && !slices.Contains(logStatuses, opts.Filter.Status) {
		return usagef(c, "invalid --status %q: use %s", opts.Filter.Status, strings.Join(append(slices.Clone(logStatuses), jobStatuses...), ", "))
	}
	if jobs && opts.Filter.HTTPStatus != "" {
		return usagef(c, "--http-status filters invocation records, not jobs (--status %s)", opts.Filter.Status)
	}
	if f.isSet("limit") && opts.Filter.Limit < 1 {
		return usagef(c, "--limit must be 1 or more")
	}
	if live.Follow || f.isSet("after") {
		return p.followLogs(c, f, opts, live, jobs)
	}
	cl, err := p.client()
	if err != nil {
		return err
	}
	if jobs {
		list, err := cl.ListJobs(p.ctx, opts.App, opts.Filter)
		if err != nil {
			return err
		}
		t := jobsTable()
		for _, j := range list {
			addJobRow(t, j, truncate(j.Summary, summaryWidth))
		}
		return p.print(list, t)
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

// jobsTable is the table of jobs: STATUS is the job's state, ATTEMPTS
// the attempts made out of the most it gets ("1/3"), QUEUED when it was
// queued, and SUMMARY that of its latest attempt.
func jobsTable() *table {
	return newTable("ID", "SCRIPT", "TRIGGER", "STATUS", "ATTEMPTS", "NEXT_ATTEMPT", "QUEUED", "SUMMARY")
}

func addJobRow(t *table, j client.Job, summary string) {
	t.add(j.ID, j.Script, j.Trigger, j.Status, intCell(j.Attempts)+"/"+intCell(j.MaxAttempts),
		optionalTimeCell(j.NextAttemptAt), timeCell(j.StartedAt), summary)
}

// attemptsTable is the table of a job's attempts.
func attemptsTable() *table {
	return newTable("ATTEMPT", "ID", "VERSION", "STATUS", "HTTP", "DURATION", "STARTED", "SUMMARY")
}

func (p *pic) showLog(id string) error {
	cl, err := p.client()
	if err != nil {
		return err
	}
	e, err := cl.GetLog(p.ctx, id)
	if err != nil {
		return err
	}
	if p.isJSON() {
		return writeJSON(p.io.Out, e)
	}
	if e.Job != nil {
		return p.showJob(e.Job)
	}
	inv := e.Record
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

// showJob writes a job's row, an empty line and the table of its
// attempts (the header alone before the first).
func (p *pic) showJob(j *client.Job) error {
	t := jobsTable()
	addJobRow(t, *j, j.Summary)
	if err := writeTable(p.io.Out, t); err != nil {
		return err
	}
	if _, err := io.WriteString(p.io.Out, "\n"); err != nil {
		return fmt.Errorf("writing the job: %w", err)
	}
	at := attemptsTable()
	if j.Invocations != nil {
		for _, inv := range *j.Invocations {
			at.add(intCell(inv.Attempt), inv.ID, intCell(inv.Version), inv.Status, intCell(inv.HTTPStatus),
				durationCell(inv.DurationMS), timeCell(inv.StartedAt), inv.Summary)
		}
	}
	return writeTable(p.io.Out, at)
}
