// Package kafkatest holds what tests against librdkafka's in-process mock cluster share.
package kafkatest
