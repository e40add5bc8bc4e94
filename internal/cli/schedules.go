package cli

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/picloud/picloud/internal/client"
)

func schedulesCmd() *command {
	return &command{
		name:  "schedules",
		short: "run scripts on cron schedules",
		subs: []*command{
			{name: "create", args: "APP/NAME --cron EXPR [--tz ZONE] [--payload JSON|@FILE|@-] [--paused]", short: "run a script on a cron schedule", run: leaf(parseSchedulesCreate, runSchedulesCreate),
				long: `EXPR is a five-field cron expression — minute, hour, day of month, month,
day of week — or @yearly, @monthly, @weekly, @daily or @hourly; quote it
for the shell: --cron '30 2 * * *'. ZONE is an IANA time zone such as
Europe/Paris (default UTC). The script sees the payload as event.payload.

The schedule's row is printed on stdout; how daylight saving time changes
are handled is described in docs/events.md.`},
			{name: "ls", aliases: []string{"list"}, args: "[--app SLUG]", short: "list schedules (without --app: of every app you can see)", run: leaf(parseSchedulesList, runSchedulesList)},
			{name: "show", args: "ID", short: "show a schedule", run: leaf(parseScheduleID, runSchedulesShow)},
			{name: "pause", args: "ID", short: "pause a schedule: it fires no more until resumed", run: leaf(parseScheduleID, runSchedulesPause)},
			{name: "resume", args: "ID", short: "resume a schedule from its next due time (missed times do not fire)", run: leaf(parseScheduleID, runSchedulesResume)},
			{name: "rm", aliases: []string{"delete"}, args: "ID", short: "delete a schedule (the jobs it fired stay)", run: leaf(parseScheduleID, runSchedulesRemove)},
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

// schedulesAPI is what the schedules commands need of the client.
type schedulesAPI interface {
	CreateSchedule(ctx context.Context, slug string, in client.NewSchedule) (*client.Schedule, error)
	ListSchedules(ctx context.Context, slug string) ([]client.Schedule, error)
	ListAllSchedules(ctx context.Context) ([]client.Schedule, error)
	GetSchedule(ctx context.Context, id int64) (*client.Schedule, error)
	UpdateSchedule(ctx context.Context, id int64, in client.ScheduleUpdate) (*client.Schedule, error)
	DeleteSchedule(ctx context.Context, id int64) error
}

var _ schedulesAPI = (*client.Client)(nil)

type schedulesCreateOptions struct {
	App, Script string
	Cron        string
	Timezone    string
	Payload     string // JSON, @FILE or @-
	Paused      bool
	// Schedule is what the server is asked to create, made by the parse
	// (with the payload read and checked).
	Schedule client.NewSchedule
}

func parseSchedulesCreate(p *pic, c *command, args []string) (schedulesCreateOptions, error) {
	var opts schedulesCreateOptions
	f := newFlags(c)
	f.stringVar(&opts.Cron, "cron", "EXPR", "the cron expression (required)")
	f.stringVar(&opts.Timezone, "tz,timezone", "ZONE", "the IANA time zone the expression is read in (default UTC)")
	f.stringVar(&opts.Payload, "payload", "JSON", "the script's event.payload: a JSON value, @FILE, or @- for standard input")
	f.boolVar(&opts.Paused, "paused", "create the schedule paused")
	pos, err := p.parse(c, f, args, 1, 1)
	if err != nil {
		return opts, err
	}
	if opts.App, opts.Script, err = scriptRef(c, pos[0]); err != nil {
		return opts, err
	}
	if opts.Cron == "" {
		return opts, usagef(c, "--cron is required, e.g. --cron '0 9 * * MON-FRI'")
	}
	in := client.NewSchedule{Script: opts.Script, Cron: opts.Cron, Timezone: opts.Timezone}
	if f.isSet("payload") {
		data, err := p.readData(opts.Payload, "the payload")
		if err != nil {
			return opts, err
		}
		if !json.Valid(data) {
			return opts, usagef(c, "--payload is not valid JSON (a string needs quotes: --payload '\"text\"')")
		}
		in.Payload = data
	}
	if opts.Paused {
		in.Enabled = new(bool)
	}
	opts.Schedule = in
	return opts, nil
}

func runSchedulesCreate(p *pic, api schedulesAPI, opts schedulesCreateOptions) error {
	s, err := api.CreateSchedule(p.ctx, opts.App, opts.Schedule)
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

var parseSchedulesList = parseAppFilter("schedules")

func runSchedulesList(p *pic, api schedulesAPI, opts appFilterOptions) error {
	var (
		list []client.Schedule
		err  error
	)
	if opts.App != "" {
		list, err = api.ListSchedules(p.ctx, opts.App)
	} else {
		// One call for every app the caller can see.
		list, err = api.ListAllSchedules(p.ctx)
	}
	if err != nil {
		return err
	}
	return p.print(list, schedulesTable(list...))
}

// scheduleIDOptions name one schedule.
type scheduleIDOptions struct {
	ID int64
}

// parseScheduleID parses the ID argument of a schedules command.
func parseScheduleID(p *pic, c *command, args []string) (scheduleIDOptions, error) {
	pos, err := p.parse(c, newFlags(c), args, 1, 1)
	if err != nil {
		return scheduleIDOptions{}, err
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id < 1 {
		return scheduleIDOptions{}, usagef(c, "%q is not a schedule id (see 'pic schedules ls')", pos[0])
	}
	return scheduleIDOptions{ID: id}, nil
}

func runSchedulesShow(p *pic, api schedulesAPI, opts scheduleIDOptions) error {
	s, err := api.GetSchedule(p.ctx, opts.ID)
	if err != nil {
		return err
	}
	return p.print(s, schedulesTable(*s))
}

func runSchedulesPause(p *pic, api schedulesAPI, opts scheduleIDOptions) error {
	return setScheduleEnabled(p, api, opts.ID, false)
}

func runSchedulesResume(p *pic, api schedulesAPI, opts scheduleIDOptions) error {
	return setScheduleEnabled(p, api, opts.ID, true)
}

// setScheduleEnabled pauses or resumes a schedule and prints it.
func setScheduleEnabled(p *pic, api schedulesAPI, id int64, enabled bool) error {
	s, err := api.UpdateSchedule(p.ctx, id, client.ScheduleUpdate{Enabled: &enabled})
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

func runSchedulesRemove(p *pic, api schedulesAPI, opts scheduleIDOptions) error {
	if err := api.DeleteSchedule(p.ctx, opts.ID); err != nil {
		return err
	}
	p.info("Deleted schedule %d", opts.ID)
	return nil
}
