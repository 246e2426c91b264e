// Package pki creates the certificate authority, serving and client certificates,
// ServiceAccount signing key and static token used by the local control plane.
package pki

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// CA is a certificate authority able to sign leaf certificates.
type CA struct {
	Cert *x509.Certificate
	Key  *rsa.PrivateKey
}

func newKey() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) }

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	return n
}

// WriteKey writes an RSA private key in PKCS#1 PEM form with mode 0600.
func WriteKey(path string, key *rsa.PrivateKey) error {
	b := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	return os.WriteFile(path, b, 0o600)
}

// WriteCert writes a certificate in PEM form.
func WriteCert(path string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

// NewCA creates a self-signed CA and writes <dir>/ca.crt and <dir>/ca.key.
func NewCA(dir, cn string) (*CA, error) {
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	if err := WriteCert(filepath.Join(dir, "ca.crt"), der); err != nil {
		return nil, err
	}
	if err := WriteKey(filepath.Join(dir, "ca.key"), key); err != nil {
		return nil, err
	}
	return &CA{Cert: cert, Key: key}, nil
}

// Leaf describes a certificate to issue.
type Leaf struct {
	Name   string // file base name: <Name>.crt / <Name>.key
	CN     string
	Orgs   []string
	Server bool
	Client bool
	DNS    []string
	IPs    []net.IP
}

// Issue signs a leaf certificate and writes <dir>/<name>.crt and .key.
func (ca *CA) Issue(dir string, l Leaf) (certFile, keyFile string, err error) {
	key, err := newKey()
	if err != nil {
		return "", "", err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: l.CN, Organization: l.Orgs},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(5 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		DNSNames:     l.DNS,
		IPAddresses:  l.IPs,
	}
	if l.Server {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
	}
	if l.Client {
		tmpl.ExtKeyUsage = append(tmpl.ExtKeyUsage, x509.ExtKeyUsageClientAuth)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return "", "", err
	}
	certFile = filepath.Join(dir, l.Name+".crt")
	keyFile = filepath.Join(dir, l.Name+".key")
	if err := WriteCert(certFile, der); err != nil {
		return "", "", err
	}
	if err := WriteKey(keyFile, key); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}

// NewServiceAccountKey writes <dir>/sa.key (private, PKCS#1) and <dir>/sa.pub (PKIX public).
func NewServiceAccountKey(dir string) (priv, pub string, err error) {
	key, err := newKey()
	if err != nil {
		return "", "", err
	}
	priv = filepath.Join(dir, "sa.key")
	pub = filepath.Join(dir, "sa.pub")
	if err := WriteKey(priv, key); err != nil {
		return "", "", err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return "", "", err
	}
	if err := os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		return "", "", err
	}
	return priv, pub, nil
}

// RandomToken returns 32 random bytes as hex.
func RandomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return hex.EncodeToString(b)
}
