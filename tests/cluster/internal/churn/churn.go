// Package churn is a seeded workload generator: namespaces, Deployments (scaled, rolled
// out, deleted), ConfigMaps, Secrets, Services, Jobs, a CRD and its custom resources.
// The controllers, scheduler and fake kubelet turn these writes into further writes
// and Events. The same seed yields the same sequence of operations.
package churn

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
)

// CRD served by the generator.
const (
	CRDGroup  = "churn.kws.test"
	CRDPlural = "widgets"
	CRDKind   = "Widget"
	CRDName   = CRDPlural + "." + CRDGroup
)

var widgetGVR = schema.GroupVersionResource{Group: CRDGroup, Version: "v1", Resource: CRDPlural}

type kind string

const (
	kDeploy kind = "deployment"
	kCM     kind = "configmap"
	kSecret kind = "secret"
	kSvc    kind = "service"
	kJob    kind = "job"
	kWidget kind = "widget"
)

// Options for a run.
type Options struct {
	Kubeconfig string
	Rate       float64
	Duration   time.Duration
	Seed       uint64
	Namespaces int
	Prefix     string
	MaxPerKind int
	JobTTL     time.Duration
	// KeepNamespaces never deletes a namespace during the run: the pods of a
	// deleted namespace go through a deletecollection whose graceful updates no
	// audit line carries, which an audit-log oracle cannot explain.
	KeepNamespaces bool
	Cleanup        bool
	Verbose        bool
}

type gen struct {
	o     Options
	rng   *rand.Rand
	cs    kubernetes.Interface
	dyn   dynamic.Interface
	ext   apiextclient.Interface
	seq   int
	live  map[string]map[kind][]string // namespace -> kind -> names
	nsOps map[string]int               // operations done in each namespace
	ns    []string                     // active namespaces
	nsN   int
	ops   map[string]int
	errs  map[string]int
}

// Main parses flags and runs the generator.
func Main(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("churn", flag.ExitOnError)
	var o Options
	var seed int64
	fs.StringVar(&o.Kubeconfig, "kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the cluster")
	fs.Float64Var(&o.Rate, "rate", 5, "operations per second")
	fs.DurationVar(&o.Duration, "duration", time.Minute, "how long to run (0: until interrupted)")
	fs.Int64Var(&seed, "seed", 1, "random seed; the same seed gives the same operation sequence")
	fs.IntVar(&o.Namespaces, "namespaces", 3, "number of namespaces kept alive")
	fs.StringVar(&o.Prefix, "prefix", "churn", "namespace name prefix")
	fs.IntVar(&o.MaxPerKind, "max-per-kind", 8, "upper bound of live objects of one kind per namespace")
	fs.DurationVar(&o.JobTTL, "job-ttl", time.Minute, "ttlSecondsAfterFinished of the Jobs (whole seconds)")
	fs.BoolVar(&o.KeepNamespaces, "keep-namespaces", false, "never delete a namespace during the run")
	fs.BoolVar(&o.Cleanup, "cleanup", false, "delete the namespaces (and the CRD) at the end")
	fs.BoolVar(&o.Verbose, "v", false, "log every operation")
	_ = fs.Parse(args)
	o.Seed = uint64(seed)
	if o.Rate <= 0 {
		return errors.New("--rate must be > 0")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", o.Kubeconfig)
	if err != nil {
		return err
	}
	return Run(ctx, cfg, o)
}

// Run generates load against the cluster described by cfg.
func Run(ctx context.Context, cfg *rest.Config, o Options) error {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 200, 400
	cfg.UserAgent = "kws-churn"
	g := &gen{o: o, rng: rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15)),
		live: map[string]map[kind][]string{}, nsOps: map[string]int{}, ops: map[string]int{}, errs: map[string]int{}}
	var err error
	if g.cs, err = kubernetes.NewForConfig(cfg); err != nil {
		return err
	}
	if g.dyn, err = dynamic.NewForConfig(cfg); err != nil {
		return err
	}
	if g.ext, err = apiextclient.NewForConfig(cfg); err != nil {
		return err
	}
	if err := g.ensureCRD(ctx); err != nil {
		return fmt.Errorf("CRD: %w", err)
	}
	for i := 0; i < o.Namespaces; i++ {
		g.createNamespace(ctx)
	}
	start := time.Now()
	// Tests take the operations' start from this line (namespace setup before
	// it takes a varying time).
	log.Printf("churn: %d namespaces ready, running at %g ops/s", len(g.ns), o.Rate)
	var deadline <-chan time.Time
	if o.Duration > 0 {
		deadline = time.After(o.Duration)
	}
	tick := time.NewTicker(time.Duration(float64(time.Second) / o.Rate))
	defer tick.Stop()
	report := time.NewTicker(10 * time.Second)
	defer report.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-deadline:
			break loop
		case <-report.C:
			log.Printf("churn: %s elapsed, %d ops, %d errors", time.Since(start).Round(time.Second), sum(g.ops), sum(g.errs))
		case <-tick.C:
			g.step(ctx)
		}
	}
	if o.Cleanup {
		cctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		g.cleanup(cctx)
	}
	out := map[string]any{"seed": o.Seed, "rate": o.Rate, "elapsed": time.Since(start).Round(time.Millisecond).String(),
		"ops": g.ops, "errors": g.errs, "namespaces": g.ns}
	b, _ := json.MarshalIndent(out, "", "  ")
	fmt.Println(string(b))
	return nil
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func (g *gen) record(op string, err error) {
	g.ops[op]++
	if err != nil {
		g.errs[op]++
		if g.o.Verbose || !(apierrors.IsNotFound(err) || apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err)) {
			log.Printf("churn: %s: %v", op, err)
		}
	} else if g.o.Verbose {
		log.Printf("churn: %s ok", op)
	}
}

func (g *gen) name(prefix string) string {
	g.seq++
	return fmt.Sprintf("%s-%d", prefix, g.seq)
}

func (g *gen) pick(list []string) (string, int) {
	i := g.rng.IntN(len(list))
	return list[i], i
}

func (g *gen) objs(ns string, k kind) []string { return g.live[ns][k] }

func (g *gen) add(ns string, k kind, n string) { g.live[ns][k] = append(g.live[ns][k], n) }

func (g *gen) remove(ns string, k kind, i int) {
	l := g.live[ns][k]
	g.live[ns][k] = append(l[:i:i], l[i+1:]...)
}

func (g *gen) ensureCRD(ctx context.Context) error {
	crd := &apiextv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: CRDName},
		Spec: apiextv1.CustomResourceDefinitionSpec{
			Group: CRDGroup,
			Names: apiextv1.CustomResourceDefinitionNames{Plural: CRDPlural, Singular: "widget", Kind: CRDKind, ListKind: CRDKind + "List"},
			Scope: apiextv1.NamespaceScoped,
			Versions: []apiextv1.CustomResourceDefinitionVersion{{
				Name: "v1", Served: true, Storage: true,
				Subresources: &apiextv1.CustomResourceSubresources{Status: &apiextv1.CustomResourceSubresourceStatus{}},
				Schema: &apiextv1.CustomResourceValidation{OpenAPIV3Schema: &apiextv1.JSONSchemaProps{
					Type: "object",
					Properties: map[string]apiextv1.JSONSchemaProps{
						"spec": {Type: "object", Properties: map[string]apiextv1.JSONSchemaProps{
							"size":  {Type: "integer"},
							"color": {Type: "string"},
						}},
						"status": {Type: "object", XPreserveUnknownFields: ptr.To(true)},
					},
				}},
			}},
		},
	}
	_, err := g.ext.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, crd, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		c, err := g.ext.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, CRDName, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		for _, cond := range c.Status.Conditions {
			if cond.Type == apiextv1.Established && cond.Status == apiextv1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
}

func (g *gen) createNamespace(ctx context.Context) {
	g.nsN++
	ns := fmt.Sprintf("%s-%d-%d", g.o.Prefix, g.o.Seed, g.nsN)
	_, err := g.cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: ns, Labels: map[string]string{"kws.test/churn": "true"}}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		g.record("namespace.create", err)
		return
	}
	// Pods are rejected until the namespace's default ServiceAccount exists.
	_ = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := g.cs.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})
	g.record("namespace.create", nil)
	g.ns = append(g.ns, ns)
	g.live[ns] = map[kind][]string{}
}

type op struct {
	name   string
	weight int
	fn     func(ctx context.Context, ns string) error
}

func (g *gen) step(ctx context.Context) {
	if len(g.ns) < g.o.Namespaces {
		g.createNamespace(ctx)
		return
	}
	ns, _ := g.pick(g.ns)
	g.nsOps[ns]++
	ops := g.available(ns)
	total := 0
	for _, o := range ops {
		total += o.weight
	}
	r := g.rng.IntN(total)
	for _, o := range ops {
		if r < o.weight {
			g.record(o.name, o.fn(ctx, ns))
			return
		}
		r -= o.weight
	}
}

// available lists the operations that make sense for ns in its current state; the
// list order and weights are deterministic so a seed reproduces the sequence.
func (g *gen) available(ns string) []op {
	var ops []op
	room := func(k kind) bool { return len(g.objs(ns, k)) < g.o.MaxPerKind }
	have := func(k kind) bool { return len(g.objs(ns, k)) > 0 }
	if room(kDeploy) {
		ops = append(ops, op{"deployment.create", 6, g.createDeployment})
	}
	if have(kDeploy) {
		ops = append(ops, op{"deployment.scale", 8, g.scaleDeployment}, op{"deployment.rollout", 6, g.rolloutDeployment},
			op{"deployment.delete", 2, g.deleteDeployment})
	}
	if room(kCM) {
		ops = append(ops, op{"configmap.create", 5, g.createConfigMap})
	}
	if have(kCM) {
		ops = append(ops, op{"configmap.update", 10, g.updateConfigMap}, op{"configmap.delete", 3, g.deleteSimple(kCM)})
	}
	if room(kSecret) {
		ops = append(ops, op{"secret.create", 3, g.createSecret})
	}
	if have(kSecret) {
		ops = append(ops, op{"secret.update", 4, g.updateSecret}, op{"secret.delete", 2, g.deleteSimple(kSecret)})
	}
	if room(kSvc) && have(kDeploy) {
		ops = append(ops, op{"service.create", 3, g.createService})
	}
	if have(kSvc) {
		ops = append(ops, op{"service.delete", 2, g.deleteSimple(kSvc)})
	}
	if room(kJob) {
		ops = append(ops, op{"job.create", 3, g.createJob})
	}
	if have(kJob) {
		ops = append(ops, op{"job.delete", 2, g.deleteSimple(kJob)})
	}
	if room(kWidget) {
		ops = append(ops, op{"widget.create", 5, g.createWidget})
	}
	if have(kWidget) {
		ops = append(ops, op{"widget.patch", 8, g.patchWidget}, op{"widget.status", 3, g.widgetStatus},
			op{"widget.delete", 3, g.deleteSimple(kWidget)})
	}
	// Namespaces live for a while before they may be deleted (and later recreated).
	if !g.o.KeepNamespaces && g.nsOps[ns] > 100 {
		ops = append(ops, op{"namespace.delete", 1, g.deleteNamespace})
	}
	return ops
}

var images = []string{"nginx:1.25", "nginx:1.26", "nginx:1.27", "busybox:1.36", "redis:7.2"}

func (g *gen) createDeployment(ctx context.Context, ns string) error {
	name := g.name("web")
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(int32(1 + g.rng.IntN(4))),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: map[string]string{"kws.test/rev": "1"}},
				Spec: corev1.PodSpec{
					TerminationGracePeriodSeconds: ptr.To(int64(1)),
					Containers: []corev1.Container{{Name: "main", Image: images[g.rng.IntN(len(images))],
						Ports: []corev1.ContainerPort{{ContainerPort: 8080}}}},
				},
			},
		},
	}
	_, err := g.cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{})
	if err == nil {
		g.add(ns, kDeploy, name)
	}
	return err
}

func (g *gen) scaleDeployment(ctx context.Context, ns string) error {
	name, _ := g.pick(g.objs(ns, kDeploy))
	patch := fmt.Sprintf(`{"spec":{"replicas":%d}}`, g.rng.IntN(6))
	_, err := g.cs.AppsV1().Deployments(ns).Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	return err
}

func (g *gen) rolloutDeployment(ctx context.Context, ns string) error {
	name, _ := g.pick(g.objs(ns, kDeploy))
	patch := fmt.Sprintf(`{"spec":{"template":{"metadata":{"annotations":{"kws.test/rev":"%d"}},"spec":{"containers":[{"name":"main","image":%q}]}}}}`,
		g.seq, images[g.rng.IntN(len(images))])
	g.seq++
	_, err := g.cs.AppsV1().Deployments(ns).Patch(ctx, name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{})
	return err
}

func (g *gen) deleteDeployment(ctx context.Context, ns string) error {
	name, i := g.pick(g.objs(ns, kDeploy))
	g.remove(ns, kDeploy, i)
	return g.cs.AppsV1().Deployments(ns).Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationBackground)})
}

func (g *gen) createConfigMap(ctx context.Context, ns string) error {
	name := g.name("cm")
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: map[string]string{"value": strconv.Itoa(g.rng.IntN(1000))}}
	_, err := g.cs.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{})
	if err == nil {
		g.add(ns, kCM, name)
	}
	return err
}

func (g *gen) updateConfigMap(ctx context.Context, ns string) error {
	name, _ := g.pick(g.objs(ns, kCM))
	v := strconv.Itoa(g.rng.IntN(1000))
	return retryConflict(ctx, func() error {
		cm, err := g.cs.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if cm.Data == nil {
			cm.Data = map[string]string{}
		}
		cm.Data["value"] = v
		_, err = g.cs.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{})
		return err
	})
}

func retryConflict(ctx context.Context, fn func() error) error {
	var err error
	for i := 0; i < 5; i++ {
		if err = fn(); !apierrors.IsConflict(err) {
			return err
		}
	}
	return err
}

func (g *gen) createSecret(ctx context.Context, ns string) error {
	name := g.name("secret")
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, Type: corev1.SecretTypeOpaque,
		StringData: map[string]string{"password": fmt.Sprintf("pw-%d", g.rng.IntN(1e6))}}
	_, err := g.cs.CoreV1().Secrets(ns).Create(ctx, s, metav1.CreateOptions{})
	if err == nil {
		g.add(ns, kSecret, name)
	}
	return err
}

func (g *gen) updateSecret(ctx context.Context, ns string) error {
	name, _ := g.pick(g.objs(ns, kSecret))
	patch := fmt.Sprintf(`{"stringData":{"password":"pw-%d"}}`, g.rng.IntN(1e6))
	_, err := g.cs.CoreV1().Secrets(ns).Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	return err
}

func (g *gen) createService(ctx context.Context, ns string) error {
	target, _ := g.pick(g.objs(ns, kDeploy))
	name := g.name("svc")
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": target},
			Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}}},
	}
	_, err := g.cs.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{})
	if err == nil {
		g.add(ns, kSvc, name)
	}
	return err
}

func (g *gen) createJob(ctx context.Context, ns string) error {
	name := g.name("job")
	fail := g.rng.IntN(5) == 0
	ann := map[string]string{"kws.test/run-seconds": strconv.Itoa(1 + g.rng.IntN(4))}
	if fail {
		ann["kws.test/fail"] = "true"
	}
	j := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: batchv1.JobSpec{
			Completions:             ptr.To(int32(1 + g.rng.IntN(2))),
			Parallelism:             ptr.To(int32(1)),
			BackoffLimit:            ptr.To(int32(1)),
			TTLSecondsAfterFinished: ptr.To(int32(g.o.JobTTL / time.Second)),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Annotations: ann},
				Spec: corev1.PodSpec{
					RestartPolicy:                 corev1.RestartPolicyNever,
					TerminationGracePeriodSeconds: ptr.To(int64(1)),
					Containers:                    []corev1.Container{{Name: "work", Image: "busybox:1.36", Command: []string{"sh", "-c", "true"}}},
				},
			},
		},
	}
	_, err := g.cs.BatchV1().Jobs(ns).Create(ctx, j, metav1.CreateOptions{})
	if err == nil {
		g.add(ns, kJob, name)
	}
	return err
}

func (g *gen) createWidget(ctx context.Context, ns string) error {
	name := g.name("widget")
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": CRDGroup + "/v1", "kind": CRDKind,
		"metadata": map[string]any{"name": name},
		"spec":     map[string]any{"size": int64(g.rng.IntN(100)), "color": []string{"red", "green", "blue"}[g.rng.IntN(3)]},
	}}
	_, err := g.dyn.Resource(widgetGVR).Namespace(ns).Create(ctx, u, metav1.CreateOptions{})
	if err == nil {
		g.add(ns, kWidget, name)
	}
	return err
}

func (g *gen) patchWidget(ctx context.Context, ns string) error {
	name, _ := g.pick(g.objs(ns, kWidget))
	patch := fmt.Sprintf(`{"spec":{"size":%d}}`, g.rng.IntN(100))
	_, err := g.dyn.Resource(widgetGVR).Namespace(ns).Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	return err
}

func (g *gen) widgetStatus(ctx context.Context, ns string) error {
	name, _ := g.pick(g.objs(ns, kWidget))
	patch := fmt.Sprintf(`{"status":{"observed":%d}}`, g.rng.IntN(100))
	_, err := g.dyn.Resource(widgetGVR).Namespace(ns).Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}, "status")
	return err
}

func (g *gen) deleteSimple(k kind) func(ctx context.Context, ns string) error {
	return func(ctx context.Context, ns string) error {
		name, i := g.pick(g.objs(ns, k))
		g.remove(ns, k, i)
		opts := metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationBackground)}
		switch k {
		case kCM:
			return g.cs.CoreV1().ConfigMaps(ns).Delete(ctx, name, opts)
		case kSecret:
			return g.cs.CoreV1().Secrets(ns).Delete(ctx, name, opts)
		case kSvc:
			return g.cs.CoreV1().Services(ns).Delete(ctx, name, opts)
		case kJob:
			return g.cs.BatchV1().Jobs(ns).Delete(ctx, name, opts)
		case kWidget:
			return g.dyn.Resource(widgetGVR).Namespace(ns).Delete(ctx, name, opts)
		}
		return fmt.Errorf("unknown kind %s", k)
	}
}

func (g *gen) deleteNamespace(ctx context.Context, ns string) error {
	for i, n := range g.ns {
		if n == ns {
			g.ns = append(g.ns[:i:i], g.ns[i+1:]...)
			break
		}
	}
	delete(g.live, ns)
	delete(g.nsOps, ns)
	return g.cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
}

func (g *gen) cleanup(ctx context.Context) {
	names := append([]string(nil), g.ns...)
	sort.Strings(names)
	for _, ns := range names {
		g.record("namespace.delete", g.deleteNamespace(ctx, ns))
	}
}
