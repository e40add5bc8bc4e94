package cli

import (
	"encoding/json"
	"strconv"

	"github.com/picloud/picloud/internal/client"
)

func schedulesCmd() *command {
	return &command{
		name:  "schedules",
		short: "run scripts on cron schedules",
		subs: []*command{
			{name: "create", args: "APP/NAME --cron EXPR [--tz ZONE] [--payload JSON|@FILE|@-] [--paused]", short: "run a script on a cron schedule", run: runSchedulesCreate,
				long: `EXPR is a five-field cron expression — minute, hour, day of month, month,
day of week — or @yearly, @monthly, @weekly, @daily or @hourly; quote it
for the shell: --cron '30 2 * * *'. ZONE is an IANA time zone such as
Europe/Paris (default UTC). The script sees the payload as event.payload.

The schedule's row is printed on stdout; how daylight saving time changes
are handled is described in docs/events.md.`},
			{name: "ls", aliases: []string{"list"}, args: "[--app SLUG]", short: "list schedules (without --app: of every app you can see)", run: runSchedulesList},
			{name: "show", args: "ID", short: "show a schedule", run: runSchedulesShow},
			{name: "pause", args: "ID", short: "pause a schedule: it fires no more until resumed", run: runSchedulesPause},
			{name: "resume", args: "ID", short: "resume a schedule from its next due time (missed times do not fire)", run: runSchedulesResume},
			{name: "rm", aliases: []string{"delete"}, args: "ID", short: "delete a schedule (the jobs it fired stay)", run: runSchedulesRemove},
		},
	}
}

// schedulesTable is the table of schedules.
func schedulesTable(list ...client.Schedule) *table {
	t := newTable("ID", "APP", "SCRIPT", "CRON", "TIMEZONE", "ENABLED", "NEXT_RUN", "LAST_RUN")
	for _, s := range list {
		t.add(intCell(s.ID), s.App, s.Script, s.Cron, s.Timezone, strconv.FormatBool(s.Enabled),
			optionalTimeCell(s.NextRunAt), optionalTimeCell(s.LastRunAt))
	}
	return t
}

type schedulesCreateOptions struct {
	App, Script string
	Cron        string
	Timezone    string
	Payload     string // JSON, @FILE or @-
	Paused      bool
}

func runSchedulesCreate(p *pic, c *command, args []string) error {
	var opts schedulesCreateOptions
	f := newFlags(c)
	f.stringVar(&opts.Cron, "cron", "EXPR", "the cron expression (required)")
	f.stringVar(&opts.Timezone, "tz,timezone", "ZONE", "the IANA time zone the expression is read in (default UTC)")
	f.stringVar(&opts.Payload, "payload", "JSON", "the script's event.payload: a JSON value, @FILE, or @- for standard input")
	f.boolVar(&opts.Paused, "paused", "create the schedule paused")
	pos, err := p.parse(c, f, args, 1, 1)
	if err != nil {
		return err
	}
	if opts.App, opts.Script, err = scriptRef(c, pos[0]); err != nil {
		return err
	}
	if opts.Cron == "" {
		return usagef(c, "--cron is required, e.g. --cron '0 9 * * MON-FRI'")
	}
	in := client.NewSchedule{Script: opts.Script, Cron: opts.Cron, Timezone: opts.Timezone}
	if f.isSet("payload") {
		data, err := p.readData(opts.Payload, "the payload")
		if err != nil {
			return err
		}
		if !json.Valid(data) {
			return usagef(c, "--payload is not valid JSON (a string needs quotes: --payload '\"text\"')")
		}
		in.Payload = data
	}
	if opts.Paused {
		in.Enabled = new(bool)
	}
	cl, err := p.client()
	if err != nil {
		return err
	}
	s, err := cl.CreateSchedule(p.ctx, opts.App, in)
	if err != nil {
		return err
	}
	if s.Enabled {
		p.info("Created schedule %d: %s/%s at %q (%s); next run %s", s.ID, s.App, s.Script, s.Cron, s.Timezone, optionalTimeCell(s.NextRunAt))
	} else {
		p.info("Created schedule %d: %s/%s at %q (%s), paused", s.ID, s.App, s.Script, s.Cron, s.Timezone)
	}
	return p.print(s, schedulesTable(*s))
}

func runSchedulesList(p *pic, c *command, args []string) error {
	var app string
	f := newFlags(c)
	f.stringVar(&app, "app", "SLUG", "only this app's schedules")
	if _, err := p.parse(c, f, args, 0, 0); err != nil {
		return err
	}
	cl, err := p.client()
	if err != nil {
		return err
	}
	var list []client.Schedule
	if app != "" {
		list, err = cl.ListSchedules(p.ctx, app)
	} else {
		// One call for every app the caller can see.
		list, err = cl.ListAllSchedules(p.ctx)
	}
	if err != nil {
		return err
	}
	return p.print(list, schedulesTable(list...))
}

// scheduleID parses the ID argument of a schedules command.
func (p *pic) scheduleID(c *command, args []string) (int64, error) {
	pos, err := p.parse(c, newFlags(c), args, 1, 1)
	if err != nil {
		return 0, err
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id < 1 {
		return 0, usagef(c, "%q is not a schedule id (see 'pic schedules ls')", pos[0])
	}
	return id, nil
}

func runSchedulesShow(p *pic, c *command, args []string) error {
	id, err := p.scheduleID(c, args)
	if err != nil {
		return err
	}
	cl, err := p.client()
	if err != nil {
		return err
	}
	s, err := cl.GetSchedule(p.ctx, id)
	if err != nil {
		return err
	}
	return p.print(s, schedulesTable(*s))
}

func runSchedulesPause(p *pic, c *command, args []string) error {
	return p.setScheduleEnabled(c, args, false)
}

func runSchedulesResume(p *pic, c *command, args []string) error {
	return p.setScheduleEnabled(c, args, true)
}

// setScheduleEnabled pauses or resumes a schedule and prints it.
func (p *pic) setScheduleEnabled(c *command, args []string, enabled bool) error {
	id, err := p.scheduleID(c, args)
	if err != nil {
		return err
	}
	cl, err := p.client()
	if err != nil {
		return err
	}
	s, err := cl.UpdateSchedule(p.ctx, id, client.ScheduleUpdate{Enabled: &enabled})
	if err != nil {
		return err
	}
	if enabled {
		p.info("Resumed schedule %d; next run %s", s.ID, optionalTimeCell(s.NextRunAt))
	} else {
		p.info("Paused schedule %d", s.ID)
	}
	return p.print(s, schedulesTable(*s))
}

func runSchedulesRemove(p *pic, c *command, args []string) error {
	id, err := p.scheduleID(c, args)
	if err != nil {
		return err
	}
	cl, err := p.client()
	if err != nil {
		return err
	}
	if err := cl.DeleteSchedule(p.ctx, id); err != nil {
		return err
	}
	p.info("Deleted schedule %d", id)
	return nil
}
