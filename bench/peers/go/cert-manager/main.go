// Command cert-manager-controller runs cert-manager's controllers from the Go module
// github.com/cert-manager/cert-manager, for bench/reconcile.ts to time a restart.
//
// Why a wrapper: upstream's main and its app package live in a nested module
// (cmd/controller, module path github.com/cert-manager/cert-manager/controller-binary) that the
// Go module proxy does not serve, and the app's configuration types are in the main module's
// internal/ tree, which no other module may import. This main does what upstream's app.Run does
// for the controllers themselves (one ContextFactory with upstream's default options, every
// enabled controller from controller.Known(), then the shared informer factories), and leaves
// out what a restart-and-sync timing does not need: leader election (a fresh lease is taken at
// once anyway), the metrics, healthz and pprof servers, and the config-file/flag machinery.
//
// Its one addition: with --exit-when-synced it counts, through client-go's workqueue metrics
// hooks, what every named controller queue has taken and finished, and exits 0 printing one JSON
// line on stdout {"synced":true,...} as soon as every certificates-* queue has finished at least
// --expect-certificates items and every queue is empty with nothing in flight (checked on two
// consecutive polls 10 ms apart). That is "synced": each Certificate has been through each
// certificates controller once since start and nothing is left to do. It exits 1 with
// {"synced":false,...} after --sync-timeout.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/util/workqueue"

	"github.com/cert-manager/cert-manager/pkg/controller"
	challengescontroller "github.com/cert-manager/cert-manager/pkg/controller/acmechallenges"
	orderscontroller "github.com/cert-manager/cert-manager/pkg/controller/acmeorders"
	shimingresscontroller "github.com/cert-manager/cert-manager/pkg/controller/certificate-shim/ingresses"
	cracmecontroller "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/acme"
	crapprovercontroller "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/approver"
	crcacontroller "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/ca"
	crselfsignedcontroller "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/selfsigned"
	crvaultcontroller "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/vault"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/issuing"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/keymanager"
	certificatesmetricscontroller "github.com/cert-manager/cert-manager/pkg/controller/certificates/metrics"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/readiness"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/requestmanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/revisionmanager"
	"github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	clusterissuerscontroller "github.com/cert-manager/cert-manager/pkg/controller/clusterissuers"
	issuerscontroller "github.com/cert-manager/cert-manager/pkg/controller/issuers"
	dnsutil "github.com/cert-manager/cert-manager/pkg/issuer/acme/dns/util"
	logf "github.com/cert-manager/cert-manager/pkg/logs"

	// Issuer implementations register themselves, as upstream's start.go imports them (less
	// venafi: see defaultControllers).
	_ "github.com/cert-manager/cert-manager/pkg/issuer/acme"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/vault"
)

// defaultControllers is upstream's DefaultEnabledControllers (internal/apis/config/controller/
// v1alpha1/defaults.go at v1.21.2, which this module cannot import) less
// certificaterequests-issuer-venafi: the proxy refuses its SDK, github.com/Venafi/vcert/v5 (403),
// and it only acts on CertificateRequests for Venafi issuers, of which the bench has none.
var defaultControllers = []string{
	issuerscontroller.ControllerName,
	clusterissuerscontroller.ControllerName,
	certificatesmetricscontroller.ControllerName,
	shimingresscontroller.ControllerName,
	orderscontroller.ControllerName,
	challengescontroller.ControllerName,
	cracmecontroller.CRControllerName,
	crapprovercontroller.ControllerName,
	crcacontroller.CRControllerName,
	crselfsignedcontroller.CRControllerName,
	crvaultcontroller.CRControllerName,
	trigger.ControllerName,
	issuing.ControllerName,
	keymanager.ControllerName,
	requestmanager.ControllerName,
	readiness.ControllerName,
	revisionmanager.ControllerName,
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig file")
	namespace := flag.String("namespace", "", "watch only this namespace (upstream's --namespace; disables ClusterIssuers)")
	controllers := flag.String("controllers", "*", "comma-separated controllers; * is upstream's default set; -name removes one")
	workers := flag.Int("workers", 5, "workers per controller (upstream's default 5)")
	exitWhenSynced := flag.Bool("exit-when-synced", false, "exit once synced (see the package comment)")
	expect := flag.Int("expect-certificates", 0, "with --exit-when-synced: Certificates each certificates-* queue must finish")
	syncTimeout := flag.Duration("sync-timeout", 10*time.Minute, "with --exit-when-synced: give up after this long")
	flag.Parse()

	started := time.Now()
	var queues *queueCounters
	if *exitWhenSynced {
		// Before any controller is built: client-go takes the first provider set and only
		// attaches it to queues created afterwards.
		queues = &queueCounters{byName: map[string]*queueCounter{}}
		workqueue.SetProvider(queues)
	}

	logf.InitLogs()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx = logf.NewContext(ctx, logf.Log)

	enabled := enabledControllers(*controllers)
	if err := run(ctx, *kubeconfig, *namespace, enabled, *workers, queues, *expect, *syncTimeout, started); err != nil {
		fmt.Fprintln(os.Stderr, "cert-manager-controller:", err)
		os.Exit(1)
	}
}

func enabledControllers(spec string) []string {
	var out []string
	for _, name := range strings.Split(spec, ",") {
		switch {
		case name == "*":
			out = append(out, defaultControllers...)
		case strings.HasPrefix(name, "-"):
			out = slices.DeleteFunc(out, func(n string) bool { return n == name[1:] })
		case name != "":
			out = append(out, name)
		}
	}
	return out
}

func run(ctx context.Context, kubeconfig, namespace string, enabled []string, workers int,
	queues *queueCounters, expect int, syncTimeout time.Duration, started time.Time) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	log := logf.FromContext(ctx)

	// Upstream's defaults (internal/apis/config/controller/v1alpha1/defaults.go, v1.21.2).
	factory, err := controller.NewContextFactory(ctx, controller.ContextOptions{
		Kubeconfig:         kubeconfig,
		KubernetesAPIQPS:   20,
		KubernetesAPIBurst: 50,
		Namespace:          namespace,
		ACMEOptions: controller.ACMEOptions{
			HTTP01SolverResourceRequestCPU:    resource.MustParse("10m"),
			HTTP01SolverResourceRequestMemory: resource.MustParse("64Mi"),
			HTTP01SolverResourceLimitsCPU:     resource.MustParse("100m"),
			HTTP01SolverResourceLimitsMemory:  resource.MustParse("64Mi"),
			ACMEHTTP01SolverRunAsNonRoot:      true,
			HTTP01SolverImage:                 "quay.io/jetstack/cert-manager-acmesolver:v1.21.2",
			DNS01Nameservers:                  dnsutil.RecursiveNameservers,
			DNS01CheckRetryPeriod:             10 * time.Second,
			DNS01CheckAuthoritative:           true,
		},
		SchedulerOptions: controller.SchedulerOptions{MaxConcurrentChallenges: 60},
		IssuerOptions: controller.IssuerOptions{
			ClusterResourceNamespace: "kube-system",
			IssuerAmbientCredentials: false,
		},
		IngressShimOptions: controller.IngressShimOptions{
			DefaultAutoCertificateAnnotations: []string{"kubernetes.io/tls-acme"},
		},
		CertificateOptions: controller.CertificateOptions{
			CertificateRequestMinimumBackoffDuration: time.Hour,
			CertificateRequestMaximumBackoffDuration: 32 * time.Hour,
		},
	})
	if err != nil {
		return err
	}
	base, err := factory.Build()
	if err != nil {
		return err
	}

	g, ctx := errgroup.WithContext(ctx)
	for _, name := range enabled {
		constructor, ok := controller.Known()[name]
		if !ok {
			return fmt.Errorf("unknown controller %q", name)
		}
		iface, err := constructor(factory)
		if err != nil {
			return fmt.Errorf("building controller %s: %w", name, err)
		}
		g.Go(func() error { return iface.Run(workers, ctx) })
	}
	log.Info("starting controllers", "controllers", enabled)
	base.SharedInformerFactory.Start(ctx.Done())
	base.KubeSharedInformerFactory.Start(ctx.Done())
	base.HTTP01ResourceMetadataInformersFactory.Start(ctx.Done())

	if queues != nil {
		g.Go(func() error {
			synced := queues.waitSynced(ctx, expect, syncTimeout)
			line, _ := json.Marshal(map[string]any{
				"synced":    synced,
				"elapsedMs": time.Since(started).Milliseconds(),
				"queues":    queues.snapshot(),
			})
			fmt.Println(string(line))
			if !synced {
				return fmt.Errorf("not synced within %s", syncTimeout)
			}
			cancel()
			return nil
		})
	}
	return g.Wait()
}

// queueCounters is a client-go workqueue.MetricsProvider that only counts.
type queueCounters struct {
	mu     sync.Mutex
	byName map[string]*queueCounter
}

type queueCounter struct {
	depth, adds, gets, dones, retries atomic.Int64
}

type counter struct{ v *atomic.Int64 }

func (c counter) Inc()            { c.v.Add(1) }
func (c counter) Dec()            { c.v.Add(-1) }
func (c counter) Observe(float64) { c.v.Add(1) }

type noop struct{}

func (noop) Set(float64) {}

func (q *queueCounters) get(name string) *queueCounter {
	q.mu.Lock()
	defer q.mu.Unlock()
	c, ok := q.byName[name]
	if !ok {
		c = &queueCounter{}
		q.byName[name] = c
	}
	return c
}

func (q *queueCounters) NewDepthMetric(name string) workqueue.GaugeMetric {
	return counter{&q.get(name).depth}
}
func (q *queueCounters) NewAddsMetric(name string) workqueue.CounterMetric {
	return counter{&q.get(name).adds}
}

// Latency is observed once per Get.
func (q *queueCounters) NewLatencyMetric(name string) workqueue.HistogramMetric {
	return counter{&q.get(name).gets}
}

// Work duration is observed once per Done.
func (q *queueCounters) NewWorkDurationMetric(name string) workqueue.HistogramMetric {
	return counter{&q.get(name).dones}
}
func (q *queueCounters) NewUnfinishedWorkSecondsMetric(string) workqueue.SettableGaugeMetric {
	return noop{}
}
func (q *queueCounters) NewLongestRunningProcessorSecondsMetric(string) workqueue.SettableGaugeMetric {
	return noop{}
}
func (q *queueCounters) NewRetriesMetric(name string) workqueue.CounterMetric {
	return counter{&q.get(name).retries}
}

type queueSnapshot struct {
	Depth   int64 `json:"depth"`
	Adds    int64 `json:"adds"`
	Done    int64 `json:"done"`
	Retries int64 `json:"retries"`
	busy    bool
}

func (q *queueCounters) snapshot() map[string]queueSnapshot {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := map[string]queueSnapshot{}
	for name, c := range q.byName {
		if name == "" {
			continue // unnamed queues (none expected) are not counted by client-go either
		}
		dones := c.dones.Load()
		out[name] = queueSnapshot{
			Depth: c.depth.Load(), Adds: c.adds.Load(), Done: dones, Retries: c.retries.Load(),
			busy: c.gets.Load() != dones,
		}
	}
	return out
}

func (q *queueCounters) isSynced(expect int) bool {
	snap := q.snapshot()
	certificateQueues := 0
	for name, s := range snap {
		if s.Depth != 0 || s.busy {
			return false
		}
		if strings.HasPrefix(name, "certificates-") {
			certificateQueues++
			if s.Done < int64(expect) {
				return false
			}
		}
	}
	return certificateQueues > 0
}

func (q *queueCounters) waitSynced(ctx context.Context, expect int, timeout time.Duration) bool {
	deadline := time.After(timeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	streak := 0
	for {
		select {
		case <-ctx.Done():
			return false
		case <-deadline:
			return false
		case <-tick.C:
			if q.isSynced(expect) {
				streak++
				if streak == 2 {
					return true
				}
			} else {
				streak = 0
			}
		}
	}
}
