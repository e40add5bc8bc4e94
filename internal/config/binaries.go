package config

import (
	"errors"
	"io"
	"strconv"

	"github.com/picloud/picloud/internal/cluster"
	"github.com/picloud/picloud/internal/executor"
	"github.com/picloud/picloud/internal/manager"
	"github.com/picloud/picloud/internal/store"
)

// Config is the settings of the all-in-one server, picloud serve (and of
// the picloud commands that open its database: admin, backup, restore).
type Config struct {
	Common
	DataDir       string // where the SQLite database lives
	DB            string // PostgreSQL URL; empty: SQLite in DataDir
	AdminUser     string
	AdminPassword string // generated when empty
	Limits        executor.Limits
	Outbound      executor.OutboundLimits
	Storage       store.StorageQuotas
	Logs          Logs
	// MaxRunningJobs is the default bound of one app's jobs running at
	// once.
	MaxRunningJobs int
	// SecretKey seals apps' secrets: its file defaults to secret.key in
	// DataDir (see SecretKeyPath).
	SecretKey  SecretKey
	Login      manager.LoginLimits
	Metrics    cluster.MetricsAccess
	Protection cluster.Protection
}

func (c *Config) declare(s *Set) {
	s.common(&c.Common, "127.0.0.1:8080", false)
	s.Var("data", "./picloud-data", "data directory (SQLite database)", func(v string) error {
		if v == "" {
			return errors.New("must not be empty")
		}
		c.DataDir = v
		return nil
	})
	s.database(&c.DB, false, "database: a postgres:// URL for PostgreSQL; empty for SQLite in the data directory")
	s.admin(&c.AdminUser, &c.AdminPassword)
	s.limits(&c.Limits)
	s.storage(&c.Storage)
	s.logs(&c.Logs)
	s.outbound(&c.Outbound)
	s.Int(&c.MaxRunningJobs, "max-running-jobs", "2", "default bound of one app's background jobs running at once (of the server's 4 workers)")
	s.secretKey(&c.SecretKey, "file of the key that encrypts apps' secrets; generated, mode 0600, on first start (default: secret.key in the data directory)")
	s.login(&c.Login)
	s.metrics(&c.Metrics)
	s.admission(&c.Protection)
	s.connections(&c.Protection)
}

// Manager is the settings of a cluster's control plane, picloud-manager.
type Manager struct {
	Common
	DB            string
	AdminUser     string
	AdminPassword string
	// Limits are the executors' own: deploys are compiled under them.
	Limits     executor.Limits
	Storage    store.StorageQuotas
	SecretKey  SecretKey
	Metrics    cluster.MetricsAccess
	Login      manager.LoginLimits
	Protection cluster.Protection
}

func (c *Manager) declare(s *Set) {
	s.common(&c.Common, "127.0.0.1:8080", false)
	s.database(&c.DB, true, "PostgreSQL URL of the cluster's database (postgres://…)")
	s.admin(&c.AdminUser, &c.AdminPassword)
	s.limits(&c.Limits)
	s.storage(&c.Storage)
	s.secretKey(&c.SecretKey, clusterKeyHelp)
	s.metrics(&c.Metrics)
	s.login(&c.Login)
	s.connections(&c.Protection)
}

// clusterKeyHelp is the meaning of --secret-key-file in a cluster, where
// no process generates the key.
const clusterKeyHelp = "file of the key that encrypts apps' secrets, mode 0600; the same key on every manager and orchestrator"

// Orchestrator is the settings of a cluster's data-plane node,
// picloud-orchestrator.
type Orchestrator struct {
	Common
	DB string
	// Executor is "spawn" (a child picloud-executor, restarted when it
	// dies, ExecutorBin its binary) or the address of one.
	Executor       string
	ExecutorBin    string
	Node           string // the node's name in the job queue; "" for host:port
	Workers        int
	MaxRunningJobs int
	Limits         executor.Limits
	Outbound       executor.OutboundLimits
	Storage        store.StorageQuotas
	Logs           Logs
	SecretKey      SecretKey
	Metrics        cluster.MetricsAccess
	Protection     cluster.Protection
}

func (c *Orchestrator) declare(s *Set) {
	s.common(&c.Common, "127.0.0.1:8081", false)
	s.database(&c.DB, true, "PostgreSQL URL of the cluster's database (postgres://…)")
	s.Var("executor", "spawn", "the node's executor: spawn (start picloud-executor as a child and restart it), unix:/path or http://127.0.0.1:port", func(v string) error {
		if v == "" {
			return errors.New("must not be empty")
		}
		c.Executor = v
		return nil
	})
	s.String(&c.ExecutorBin, "executor-bin", "", "picloud-executor binary to spawn (default: next to this binary, else on PATH)")
	s.String(&c.Node, "node", "", "this node's name in the job queue, stable across restarts and unique in the cluster (default: host name:port)")
	s.Int(&c.Workers, "workers", "4", "jobs of the queue this node runs at once")
	s.Int(&c.MaxRunningJobs, "max-running-jobs", "2", "default bound of one app's jobs running at once, on all the nodes together; the same on every node")
	s.limits(&c.Limits)
	s.outbound(&c.Outbound)
	s.storage(&c.Storage)
	s.logs(&c.Logs)
	s.secretKey(&c.SecretKey, clusterKeyHelp)
	s.metrics(&c.Metrics)
	s.admission(&c.Protection)
	s.connections(&c.Protection)
}

// Executor is the settings of a cluster node's script runner,
// picloud-executor.
type Executor struct {
	Common
	Limits    executor.Limits
	CacheSize int
	DB        string // for the scripts' key-value store; without it kv calls fail
}

func (c *Executor) declare(s *Set) {
	s.common(&c.Common, "127.0.0.1:8082", true)
	s.limits(&c.Limits)
	s.Int(&c.CacheSize, "cache-size", "512", "compiled script versions kept in memory")
	s.Alias("cache-size", "PICLOUD_EXECUTOR_CACHE")
	s.database(&c.DB, false, "PostgreSQL URL of the cluster's database, for the key-value store of scripts; without it kv calls fail")
}

// settings is what each binary's settings struct does.
type settings interface{ declare(s *Set) }

// Binary names a binary and the settings it reads.
type Binary struct {
	Name     string
	settings func() settings
}

// Binaries are the servers PiCloud ships, in the order
// docs/configuration.md lists them.
var Binaries = []Binary{
	{"picloud serve", func() settings { return new(Config) }},
	{"picloud-manager", func() settings { return new(Manager) }},
	{"picloud-orchestrator", func() settings { return new(Orchestrator) }},
	{"picloud-executor", func() settings { return new(Executor) }},
}

// Rows lists the binary's settings.
func (b Binary) Rows() []Row {
	s := NewSet(b.Name, func(string) string { return "" }, io.Discard)
	b.settings().declare(s)
	return s.Rows()
}

// load declares c's settings for the command name and parses them.
func load[T settings](c T, name string, args []string, getenv func(string) string, stderr io.Writer) error {
	s := NewSet(name, getenv, stderr)
	c.declare(s)
	return s.Parse(args)
}

// Load reads the settings of picloud serve (and of the picloud commands
// that share them, named name) from args, the environment and the file.
func Load(name string, args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	var c Config
	err := load(&c, name, args, getenv, stderr)
	return c, err
}

// LoadManager reads the settings of picloud-manager.
func LoadManager(args []string, getenv func(string) string, stderr io.Writer) (Manager, error) {
	var c Manager
	err := load(&c, "picloud-manager", args, getenv, stderr)
	return c, err
}

// LoadOrchestrator reads the settings of picloud-orchestrator.
func LoadOrchestrator(args []string, getenv func(string) string, stderr io.Writer) (Orchestrator, error) {
	var c Orchestrator
	err := load(&c, "picloud-orchestrator", args, getenv, stderr)
	return c, err
}

// LoadExecutor reads the settings of picloud-executor.
func LoadExecutor(args []string, getenv func(string) string, stderr io.Writer) (Executor, error) {
	var c Executor
	err := load(&c, "picloud-executor", args, getenv, stderr)
	return c, err
}

// LimitArgs are the flags that give another binary the limits l.
func LimitArgs(l executor.Limits) []string {
	return []string{
		"--timeout", l.Timeout.String(),
		"--max-operations", strconv.FormatUint(l.MaxOperations, 10),
		"--max-body", strconv.FormatInt(l.MaxBodyBytes, 10),
		"--max-memory", strconv.FormatInt(l.MaxMemoryBytes, 10),
		"--max-script", strconv.FormatInt(l.MaxScriptBytes, 10),
		"--kv-max-value", strconv.FormatInt(l.KV.MaxValueBytes, 10),
		"--kv-max-bytes", strconv.FormatInt(l.KV.MaxBytes, 10),
		"--kv-max-keys", strconv.FormatInt(l.KV.MaxKeys, 10),
	}
}
