package payments

import (
	"crypto/tls"
	"net/http"
	"time"
)

// NewLedgerClient talks to the ledger service.
func NewLedgerClient() *http.Client {
	transport := &http.Transport{
		TLSClientConfig: &tls.Config{
			InsecureSkipVerify: true, // "temporary", since 2021
		},
	}
	return &http.Client{Transport: transport, Timeout: 10 * time.Second}
}
