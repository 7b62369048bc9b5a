package language_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/frontdesk-ai/frontdesk/language"
)

// sentences are customer messages per language, written for this test and
// not in the corpora the models are built from.
var sentences = map[string][]string{
	"en": {
		"Hi there, my parcel never showed up. Can someone look into it?",
		"I want a refund",
		"Can you help me?",
		"The headphones stopped charging after a week, what should I do?",
		"When will my order ship?",
		"thanks so much!",
		"Please send me the tracking link for order 48213",
		"hello, is anyone there?",
	},
	"de": {
		"Guten Abend, meine Lieferung ist leider immer noch nicht da.",
		"Ich möchte mein Geld zurück",
		"Kannst du mir helfen?",
		"Wann wird meine Bestellung verschickt?",
		"Die Kopfhörer laden nach einer Woche nicht mehr, was soll ich tun?",
		"danke schön",
		"Wo bleibt mein Paket? Bestellnummer 100234",
		"Ist das Angebot noch gültig?",
	},
	"fr": {
		"Bonjour, mon colis n'est jamais arrivé, pouvez-vous vérifier ?",
		"Je veux un remboursement",
		"Quand est-ce que ma commande sera expédiée ?",
		"Le casque ne se recharge plus après une semaine, que dois-je faire ?",
		"merci beaucoup",
		"Est-ce que quelqu'un peut m'aider ?",
	},
	"es": {
		"Hola, mi paquete nunca llegó, ¿pueden revisarlo?",
		"Quiero un reembolso",
		"¿Cuándo van a enviar mi pedido?",
		"Los auriculares dejaron de cargar después de una semana, ¿qué hago?",
		"muchas gracias",
		"¿Alguien me puede ayudar?",
	},
	"it": {
		"Buonasera, il mio pacco non è mai arrivato, potete controllare?",
		"Voglio un rimborso",
		"Quando verrà spedito il mio ordine?",
		"Le cuffie non si caricano più dopo una settimana, cosa devo fare?",
		"grazie mille",
		"Qualcuno mi può aiutare?",
	},
	"pt": {
		"Olá, a minha encomenda nunca chegou, podem verificar?",
		"Quero o meu dinheiro de volta",
		"Quando é que o meu pedido vai ser enviado?",
		"Os fones pararam de carregar depois de uma semana, o que eu faço?",
		"muito obrigado",
		"Alguém pode me ajudar?",
	},
	"nl": {
		"Goedenavond, mijn pakket is nooit aangekomen, kunnen jullie dat nakijken?",
		"Ik wil mijn geld terug",
		"Wanneer wordt mijn bestelling verzonden?",
		"De koptelefoon laadt na een week niet meer op, wat moet ik doen?",
		"dank je wel",
		"Kan iemand mij helpen?",
	},
	"pl": {
		"Dzień dobry, moja paczka nigdy nie dotarła, możecie sprawdzić?",
		"Chcę zwrot pieniędzy",
		"Kiedy wyślecie moje zamówienie?",
		"Słuchawki przestały się ładować po tygodniu, co mam zrobić?",
		"dziękuję bardzo",
		"Czy ktoś może mi pomóc?",
	},
	"tr": {
		"Merhaba, kargom hiç gelmedi, kontrol edebilir misiniz?",
		"Paramı geri istiyorum",
		"Siparişim ne zaman kargoya verilecek?",
		"Kulaklık bir hafta sonra şarj olmuyor, ne yapmalıyım?",
		"çok teşekkürler",
		"Biri bana yardım edebilir mi?",
	},
	"sv": {
		"Hej, mitt paket har aldrig kommit fram, kan ni kolla det?",
		"Jag vill ha pengarna tillbaka",
		"När skickas min beställning?",
		"Hörlurarna laddar inte längre efter en vecka, vad ska jag göra?",
		"tack så mycket",
		"Kan någon hjälpa mig?",
	},
	"ru": {
		"Здравствуйте, моя посылка так и не пришла, проверьте, пожалуйста.",
		"Я хочу вернуть деньги",
		"Когда отправят мой заказ?",
		"Наушники перестали заряжаться через неделю, что делать?",
		"спасибо большое",
	},
	"uk": {
		"Вітаю, моя посилка так і не прийшла, перевірте, будь ласка.",
		"Я хочу повернути гроші",
		"Коли відправлять моє замовлення?",
		"Навушники перестали заряджатися через тиждень, що робити?",
		"дуже дякую",
	},
	"ar": {
		"مرحبا، طردي لم يصل أبدا، هل يمكنكم التحقق؟",
		"أريد استرداد أموالي",
		"متى سيتم شحن طلبي؟",
		"شكرا جزيلا لكم",
	},
	"fa": {
		"سلام، بسته من هیچ‌وقت نرسید، می‌توانید بررسی کنید؟",
		"پولم را پس می‌خواهم",
		"سفارش من کی ارسال می‌شود؟",
		"خیلی ممنونم",
	},
	"el": {"Γεια σας, πού είναι η παραγγελία μου;"},
	"he": {"שלום, איפה ההזמנה שלי?"},
	"ja": {"注文した商品がまだ届いていません。", "ありがとう"},
	"zh": {"我的订单在哪里？", "谢谢"},
	"ko": {"주문한 상품이 아직 안 왔어요", "감사합니다"},
	"th": {"สวัสดีครับ พัสดุของผมอยู่ที่ไหน"},
	"hi": {"नमस्ते, मेरा ऑर्डर कहाँ है?"},
}

func TestDetect(t *testing.T) {
	for want, texts := range sentences {
		for _, text := range texts {
			t.Run(want+"/"+text, func(t *testing.T) {
				got, conf := language.Detect(text)
				if got != want {
					t.Errorf("Detect(%q) = %q (%.2f), want %q", text, got, conf, want)
				}
				if conf <= 0 || conf > 1 {
					t.Errorf("Detect(%q) confidence %.3f", text, conf)
				}
			})
		}
	}
}

// TestDetectAbstains: what names no language returns "".
func TestDetectAbstains(t *testing.T) {
	for _, text := range []string{
		"", "   ", "ok", "OK!", "okay", "👍", "👍👍🙏", "?", "...", "#100234", "100234", "A-4711-B",
		"ja", "si", "no", "lol", "haha ok", "https://shop.example.com/orders/4711", "jane.doe@example.com",
		"4711 ok", "+49 30 1234567", "€49,99", "12.03.2026", "x", "Δ",
		// Codes that mix letters and digits: tracking numbers, SKUs, vouchers.
		"JJD0001234567890DE", "XK7QPL9ZWW3T", "SKU-BLK2-XL44",
		// Words several languages share, and brand names.
		"hallo", "Hallo!", "iPhone", "Samsung Galaxy", "PayPal",
	} {
		t.Run(text, func(t *testing.T) {
			if got, conf := language.Detect(text); got != "" {
				t.Errorf("Detect(%q) = %q (%.2f), want \"\"", text, got, conf)
			}
		})
	}
}

// TestDetectConfidence: a sentence is Sure, a word names its language with
// less.
func TestDetectConfidence(t *testing.T) {
	for _, tc := range []struct {
		text string
		want string
		sure bool
	}{
		{"Guten Abend, meine Lieferung ist leider immer noch nicht da.", "de", true},
		{"Kannst du mir bitte helfen?", "de", true},
		{"注文した商品がまだ届いていません。", "ja", true},
		{"danke", "de", false},
		{"merci", "fr", false},
		{"thanks", "en", false},
		{"谢谢", "zh", false},
	} {
		got, conf := language.Detect(tc.text)
		if got != tc.want || (conf >= language.Sure) != tc.sure {
			t.Errorf("Detect(%q) = %q, %.2f; want %q, sure %v", tc.text, got, conf, tc.want, tc.sure)
		}
	}
}

// TestDetectIgnoresNoise: order numbers, links and e-mail addresses in a
// sentence do not change its language.
func TestDetectIgnoresNoise(t *testing.T) {
	for text, want := range map[string]string{
		"Bestellung #A-100234 ist noch nicht da, siehe https://shop.example.com/track?id=100234": "de",
		"ok danke, meine Mail ist jane.doe@example.com":                                          "de",
		"Where is order 4711?? 😡😡":                                                               "en",
		"ok ok, merci pour votre réponse":                                                        "fr",
	} {
		if got, conf := language.Detect(text); got != want {
			t.Errorf("Detect(%q) = %q (%.2f), want %q", text, got, conf, want)
		}
	}
}

func TestLanguages(t *testing.T) {
	got := language.Languages()
	for code := range sentences {
		if !slices.Contains(got, code) {
			t.Errorf("Languages() = %v, lacks %s", got, code)
		}
	}
	for _, code := range got {
		if len(code) != 2 || strings.ToLower(code) != code {
			t.Errorf("Languages() has %q, not an ISO 639-1 code", code)
		}
	}
}

func BenchmarkDetect(b *testing.B) {
	text := "Hallo, ich habe letzte Woche bestellt und warte immer noch auf mein Paket."
	language.Detect(text) // build the models outside the timing
	b.ReportAllocs()
	for b.Loop() {
		language.Detect(text)
	}
}

// FuzzDetect: Detect never panics, names only a language of Languages and
// keeps its confidence in [0, 1].
func FuzzDetect(f *testing.F) {
	for _, texts := range sentences {
		f.Add(texts[0])
	}
	f.Add("ok 👍 #4711")
	f.Add("İptal")
	f.Add("注文 ありがとう")
	known := language.Languages()
	f.Fuzz(func(t *testing.T, text string) {
		code, conf := language.Detect(text)
		if code != "" && !slices.Contains(known, code) {
			t.Fatalf("Detect(%q) = %q, not one of %v", text, code, known)
		}
		if conf < 0 || conf > 1 || code == "" && conf != 0 {
			t.Fatalf("Detect(%q) = %q, %v", text, code, conf)
		}
	})
}
