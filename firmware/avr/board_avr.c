#include "firmware/avr/board_avr.h"

#include <avr/interrupt.h>
#include <avr/io.h>
#include <avr/sleep.h>
#include <util/atomic.h>

/* ---- USART0 ----------------------------------------------------------------------------------------- */

/* A power of two, so that the indices wrap with a mask. A command frame is at most 36 bytes on the wire,
 * so one whole command and the start of the next fit while a reading is being sent. */
#define RX_RING_SIZE 64u

static volatile uint8_t rx_ring[RX_RING_SIZE];
static volatile uint8_t rx_head; /* written by the interrupt */
static volatile uint8_t rx_tail; /* written by the main loop */
static volatile uint16_t rx_lost;

ISR(USART_RX_vect) {
  uint8_t status = UCSR0A;
  uint8_t byte = UDR0;
  if (status & (1u << DOR0)) {
    ++rx_lost; /* the USART itself lost at least one byte before this one */
  }
  uint8_t next = (uint8_t)((rx_head + 1u) & (RX_RING_SIZE - 1u));
  if (next == rx_tail) {
    ++rx_lost;
    return;
  }
  rx_ring[rx_head] = byte;
  rx_head = next;
}

uint8_t board_avr_receive(uint8_t* byte) {
  uint8_t tail = rx_tail;
  if (tail == rx_head) {
    return 0;
  }
  *byte = rx_ring[tail];
  rx_tail = (uint8_t)((tail + 1u) & (RX_RING_SIZE - 1u));
  return 1;
}

uint16_t board_avr_take_lost(void) {
  uint16_t lost;
  ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
    lost = rx_lost;
    rx_lost = 0;
  }
  return lost;
}

static void avr_send(void* ctx, const uint8_t* bytes, size_t len) {
  (void)ctx;
  for (size_t i = 0; i < len; ++i) {
    while (!(UCSR0A & (1u << UDRE0))) {
    }
    UDR0 = bytes[i];
  }
}

static void usart_init(void) {
  /* Double speed: UBRR 16 gives 117647 baud, 2.1 % fast, within what every UART takes; without it the
   * nearest divisor is 3.5 % off. */
  const uint16_t ubrr = (uint16_t)((F_CPU + 4u * BOARD_BAUD) / (8u * BOARD_BAUD) - 1u);
  /* U2X0 before the divisor: the chip does not care, but simavr works out its byte time when UBRR0L is
   * written, from U2X0 as it is then (written the other way round, it sends at half the speed). */
  UCSR0A = (1u << U2X0);
  UBRR0H = (uint8_t)(ubrr >> 8);
  UBRR0L = (uint8_t)ubrr;
  UCSR0C = (1u << UCSZ01) | (1u << UCSZ00); /* 8N1 */
  UCSR0B = (1u << RXEN0) | (1u << TXEN0) | (1u << RXCIE0);
}

/* ---- Timer0: the millisecond clock ------------------------------------------------------------------- */

static volatile uint32_t millis;

ISR(TIMER0_COMPA_vect) {
  ++millis;
}

uint32_t board_avr_millis(void) {
  uint32_t now;
  ATOMIC_BLOCK(ATOMIC_RESTORESTATE) {
    now = millis;
  }
  return now;
}

static void timer0_init(void) {
  TCCR0A = (1u << WGM01);               /* CTC: count to OCR0A, then start again */
  TCCR0B = (1u << CS01) | (1u << CS00); /* F_CPU / 64 = 250 kHz */
  OCR0A = (uint8_t)(F_CPU / 64u / 1000u - 1u);
  TIMSK0 = (1u << OCIE0A);
}

/* ---- The output pin and the sensor ------------------------------------------------------------------- */

static void avr_set_output(void* ctx, uint8_t level) {
  (void)ctx;
  if (level) {
    PORTB |= (1u << PORTB5);
  } else {
    PORTB &= (uint8_t) ~(1u << PORTB5);
  }
}

static uint16_t adc_read(uint8_t channel) {
  ADMUX = (uint8_t)((1u << REFS0) | (channel & 0x0Fu)); /* reference AVcc */
  ADCSRA |= (1u << ADSC);
  while (ADCSRA & (1u << ADSC)) {
  }
  return ADC;
}

/* To add a sensor, read it here and add an fg_reading: a key (a short name: it becomes the MQTT topic
 * <prefix>/<gateway>/<device>/<key>), an integer value and the number of decimals it carries. */
static uint8_t avr_read_sensors(void* ctx, fg_reading* out, uint8_t cap) {
  (void)ctx;
  uint8_t n = 0;
  uint16_t raw = adc_read(0);
  if (n < cap) {
    out[n++] = (fg_reading){"a0", raw, 0};
  }
  if (n < cap) {
    /* 1023 is AVcc (5 V on an Uno or Nano). */
    out[n++] = (fg_reading){"mv", (int32_t)((uint32_t)raw * 5000u / 1023u), 0};
  }
  return n;
}

static void adc_init(void) {
  ADCSRA = (1u << ADEN) | (1u << ADPS2) | (1u << ADPS1) | (1u << ADPS0); /* 16 MHz / 128 = 125 kHz */
  DIDR0 = (1u << ADC0D); /* no digital input buffer on the analog pin */
}

/* ---- The board --------------------------------------------------------------------------------------- */

void board_avr_init(fg_board* board) {
  DDRB |= (1u << DDB5);
  usart_init();
  timer0_init();
  adc_init();
  set_sleep_mode(SLEEP_MODE_IDLE);
  board->ctx = 0;
  board->name = "atmega328p";
  board->send = avr_send;
  board->read_sensors = avr_read_sensors;
  board->set_output = avr_set_output;
}

void board_avr_idle(void) {
  cli();
  if (rx_head == rx_tail) {
    /* sei takes effect after the next instruction, so no interrupt can slip in between it and the sleep
     * and leave a byte waiting until the next tick. */
    sleep_enable();
    sei();
    sleep_cpu();
    sleep_disable();
  }
  sei();
}
