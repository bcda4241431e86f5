package client

import (
	"encoding/json"
	"errors"
	"strings"
)

var systems = map[Kind]string{
	MBI:  "https://bluebutton.cms.gov/resources/identifier/mbi-encrypted",
	HICN: "https://bluebutton.cms.gov/resources/identifier/hicn-encrypted",
}

// PatientSearchURL is GET {base}/v2/fhir/Patient?identifier={system}%7C{token}: only ciphertext.
func PatientSearchURL(baseURL, token string, kind Kind) string {
	if kind == "" {
		kind = MBI
	}
	return strings.TrimRight(baseURL, "/") + "/v2/fhir/Patient?identifier=" + systems[kind] + "%7C" + token
}

// Result is a search's answer: the Patient ids of a Bundle, or an OperationOutcome's error code.
type Result struct {
	PatientIDs []string
	ErrorCode  string
}

// Search sends the encrypted search and reads the FHIR answer.
func Search(baseURL, token string, kind Kind) (*Result, error) {
	data, err := get(PatientSearchURL(baseURL, token, kind), "application/fhir+json")
	if err != nil {
		return nil, err
	}
	var body struct {
		ResourceType string `json:"resourceType"`
		Entry        []struct {
			Resource struct {
				ID string `json:"id"`
			} `json:"resource"`
		} `json:"entry"`
		Issue []struct {
			Details struct {
				Coding []struct {
					Code string `json:"code"`
				} `json:"coding"`
			} `json:"details"`
		} `json:"issue"`
	}
	if err := json.Unmarshal(data, &body); err != nil {
		return nil, errors.New("the gateway's answer is not JSON")
	}
	result := &Result{}
	if body.ResourceType == "Bundle" {
		for _, e := range body.Entry {
			result.PatientIDs = append(result.PatientIDs, e.Resource.ID)
		}
		return result, nil
	}
	result.ErrorCode = "not a FHIR Bundle"
	if len(body.Issue) > 0 && len(body.Issue[0].Details.Coding) > 0 {
		result.ErrorCode = body.Issue[0].Details.Coding[0].Code
	}
	return result, nil
}
