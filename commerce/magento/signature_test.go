package magento_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frontdesk-ai/frontdesk/commerce"
	"github.com/frontdesk-ai/frontdesk/commerce/magento"
	"github.com/frontdesk-ai/frontdesk/commerce/magento/magentotest"
)

func TestVerifyHMAC(t *testing.T) {
	body := []byte(`{"data":{"entity_id":3,"increment_id":"000000003"}}`)
	const secret = "fD03@NpYbXYg"
	for _, c := range []struct {
		name, secret, header string
		ok                   bool
	}{
		{"right", secret, magentotest.SignHMAC(secret, body), true},
		{"right, upper-case hex", secret, strings.ToUpper(magentotest.SignHMAC(secret, body)), true},
		{"other secret", secret, magentotest.SignHMAC("aIW0G9n3*9wN", body), false},
		{"other body", secret, magentotest.SignHMAC(secret, []byte(`{"data":{}}`)), false},
		{"missing", secret, "", false},
		{"not hex", secret, "zz" + magentotest.SignHMAC(secret, body)[2:], false},
		{"base64 instead of hex", secret, base64.StdEncoding.EncodeToString([]byte(magentotest.SignHMAC(secret, body))), false},
		{"no secret configured", "", magentotest.SignHMAC("", body), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := magento.VerifyHMAC(c.secret, body, c.header)
			if c.ok && err != nil {
				t.Fatalf("VerifyHMAC: %v", err)
			}
			if !c.ok && !errors.Is(err, commerce.ErrSignature) {
				t.Fatalf("VerifyHMAC = %v, want commerce.ErrSignature", err)
			}
		})
	}
}

func TestVerifyRSA(t *testing.T) {
	priv, path := magentotest.NewKey(t)
	pub, err := magento.LoadPublicKey(path)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := magentotest.NewKey(t)
	body := []byte(`{"eventName":"observer.sales_order_save_after","data":{"order":{"entity_id":"17"}}}`)
	overRawBody := func() string { // the signature over the raw body, not its base64
		h := sha256.Sum256(body)
		sig, err := priv.Sign(rand.Reader, h[:], crypto.SHA256)
		if err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(sig)
	}
	for _, c := range []struct {
		name, header string
		ok           bool
	}{
		{"right", magentotest.SignRSA(priv, body), true},
		{"other key", magentotest.SignRSA(other, body), false},
		{"other body", magentotest.SignRSA(priv, []byte(`{}`)), false},
		{"over the raw body", overRawBody(), false},
		{"missing", "", false},
		{"not base64", "***", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := magento.VerifyRSA(pub, body, c.header)
			if c.ok && err != nil {
				t.Fatalf("VerifyRSA: %v", err)
			}
			if !c.ok && !errors.Is(err, commerce.ErrSignature) {
				t.Fatalf("VerifyRSA = %v, want commerce.ErrSignature", err)
			}
		})
	}
	if err := magento.VerifyRSA(nil, body, magentotest.SignRSA(priv, body)); !errors.Is(err, commerce.ErrSignature) {
		t.Fatalf("VerifyRSA without a key = %v", err)
	}
}

func TestLoadPublicKey(t *testing.T) {
	priv, path := magentotest.NewKey(t)
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pkcs1 := write("pkcs1.pem", pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&priv.PublicKey)}))
	for _, p := range []string{path, pkcs1} {
		pub, err := magento.LoadPublicKey(p)
		if err != nil || !pub.Equal(&priv.PublicKey) {
			t.Errorf("LoadPublicKey(%s) = %v, %v", filepath.Base(p), pub, err)
		}
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	for name, p := range map[string]string{
		"missing file":    filepath.Join(dir, "nope.pem"),
		"not PEM":         write("garbage.pem", []byte("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtglXYVz5pVn3HDluGG5T")),
		"an EC key":       write("ec.pem", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecDER})),
		"a private block": write("priv.pem", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(priv)})),
		"broken DER":      write("broken.pem", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1, 2, 3}})),
	} {
		if _, err := magento.LoadPublicKey(p); err == nil {
			t.Errorf("LoadPublicKey(%s) accepted it", name)
		}
	}
}

// TestRSAAgainstNode checks the signature format against Node's crypto,
// which Adobe's signature-verification sample uses: createVerify('SHA256')
// over the base64 of the body, with the PEM public key. Node signs with
// createSign('SHA256') over the same; each side verifies the other's.
func TestRSAAgainstNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("no node to cross-check with")
	}
	priv, pubPath := magentotest.NewKey(t)
	privPath := filepath.Join(t.TempDir(), "private.pem")
	if err := os.WriteFile(privPath, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(priv)}), 0o600); err != nil {
		t.Fatal(err)
	}
	body := `{"eventName":"observer.sales_order_save_after","data":{"order":{"entity_id":"17","customer_email":"é@example.fr"}}}`
	script := `
const fs = require("fs"), crypto = require("crypto");
const [pubPath, privPath, body, goSig] = process.argv.slice(1);
const b64 = Buffer.from(body).toString("base64");
const ok = crypto.createVerify("SHA256").update(b64).verify(fs.readFileSync(pubPath, "utf-8"), goSig, "base64");
const nodeSig = crypto.createSign("SHA256").update(b64).sign(fs.readFileSync(privPath, "utf-8"), "base64");
process.stdout.write(JSON.stringify({ok, nodeSig}));
`
	out, err := exec.Command(node, "-e", script, pubPath, privPath, body, magentotest.SignRSA(priv, []byte(body))).Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var res struct {
		OK      bool   `json:"ok"`
		NodeSig string `json:"nodeSig"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("node said %s: %v", out, err)
	}
	if !res.OK {
		t.Error("Node's createVerify('SHA256') refused magentotest.SignRSA's signature")
	}
	pub, err := magento.LoadPublicKey(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := magento.VerifyRSA(pub, []byte(body), res.NodeSig); err != nil {
		t.Errorf("VerifyRSA refused Node's createSign('SHA256') signature: %v", err)
	}
}
