"""The layer's words: cue phrases per intent, role and language, and the words it knows.

A cue table maps a target to weights and phrases. A phrase is words separated by spaces; a
word may list alternatives with «|»; «*» at its end matches any word that begins so; «=» at
its start asks for the written word itself rather than its stem (Snowball gives «svenskt»
and «svenska» one stem, and «pass» is also the stem of «passar»). The words of a phrase must
come in order, with at most two other words between them.

Words joined by «_» must be next to each other («jag_är_framme»: not «är kortet framme»).

Weights: 3 and more for a word that names what is wanted («avboka», «vilka kort»), 2 to 2.5
for social words, so that a request next to a greeting wins, and 1 to 1.5 for hints that
only add up.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum

from bot.understanding.model import Intent


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


CueTable = dict["Target", tuple[tuple[float, str], ...]]


class Sense(StrEnum):
    """A meaning that depends on the context before it is an intent."""

    yes_word = "yes_word"  # confirm at an open question, else yes
    no_word = "no_word"  # decline at an open question, else no
    when_card = "when_card"  # «när kan jag hämta kortet»: my meeting if there is one, else status
    time_wish = "time_wish"  # a bare time wish (no cue): book, or move when there is a meeting
    coming = "coming"  # «jag kommer»: yes at the menu (attending), no to «Vill du avboka?»


Target = Intent | Sense

# The tables are laid out by hand, a weight and its phrases a line.
# fmt: off

# ---------------------------------------------------------------- everyone, Swedish

SV_SHARED: CueTable = {
    Intent.greet: (
        (2, "hej|hejsan|hallå|tjena|tja|tjabba|tjenare|tjo|morsning|mors|godmorgon|goddag|"
            "godkväll|godeftermiddag"),
    ),
    Intent.thanks: (
        (2, "tack|tackar|tacksam|tusentack; tack så mycket; tack för hjälpen"),
    ),
    Intent.goodbye: (
        (2.5, "hejdå|adjö|ajöss|hörrni; ha det bra|gott; ha en bra|trevlig dag|helg|kväll; "
              "vi ses; vi hörs; =hörs; ses_=på|=imorgon|=då|=snart|=sen|=ikväll"),
    ),
    Intent.help: (
        (3, "vad kan du; vad kan jag göra här; vad kan man göra; hur gör man; hur gör jag"),
        (2.5, "hjälp|hjälpa; hur funkar|fungerar; fattar inte; förstår inte; meny|menyn; "
              "vad gör du; instruktion*"),
    ),
    Intent.language: (
        (3, "=engelska|=engelsk|=eng|=svenska; språk|språket|språken"),
        (1, "byt|byta"),
    ),
    Sense.yes_word: (
        (3, "ja_tack; det blir bra; låter bra; det funkar|=passar|går bra; funkar|=passar bra; "
            "ja_gärna; ja_absolut; kör_på; det_är_lugnt; bekräfta|bekräftar; "
            "som_bokat|planerat|avtalat"),
        (2, "ja|japp|jepp|jajamen|jo|jadå|ok|okej|okey|oki|okay|absolut|visst|gärna|kör|"
            "perfekt|toppen|utmärkt|kanon|grymt|stämmer|precis|självklart|yes|aa|jäpp|jaa"),
        (1.5, "funkar|=passar|bra|fint|fungerar"),
    ),
    Sense.no_word: (
        (3, "nej_tack; =passar_inte|dåligt; funkar_inte; går_inte; inte_bra; "
            "låt den|det|tiden vara; behåll|behålla; glöm_det; strunta i det; "
            "avbryt|avbryta; ångra|ångrar; inte_nu"),
        (2, "nej|nä|näe|nää|nope|nix|nae"),
    ),
}

# ---------------------------------------------------------------- everyone, English

EN_SHARED: CueTable = {
    Intent.greet: (
        (2, "hi|hello|hey|hiya|howdy|yo|greetings|goodmorning|goodafternoon|goodevening"),
    ),
    Intent.thanks: (
        (2, "thanks|thank|thx|ty|cheers|tnx|appreciate|appreciated"),
    ),
    Intent.goodbye: (
        (2.5, "bye|goodbye|byebye|cya|goodnight; see_you|ya; take_care; have a nice|good day"),
    ),
    Intent.help: (
        (3, "what can you do; how does this|it work; how do i use; dont understand"),
        (2.5, "help|helping; menu; options; commands; confused"),
    ),
    Intent.language: (
        (4, "change|switch|another language"),
        (3, "=english|=swedish; language"),
        (1.5, "speak|switch"),
    ),
    Sense.yes_word: (
        (3, "sounds_good|great|fine; that_works; works_for_me; go_ahead; of_course; "
            "yes_please; looks_good|fine; do_it; that_is fine|good|great"),
        (2, "yes|yeah|yep|yup|ya|sure|ok|okay|fine|great|perfect|alright|absolutely|"
            "correct|right|definitely|yess|confirm|confirmed"),
    ),
    Sense.no_word: (
        (3, "no_thanks|thank; not_really; never_mind; nevermind; forget_it; keep_it; "
            "leave_it; doesnt_work|suit; dont_work; not_good; abort; stop"),
        (2, "no|nope|nah|nay"),
    ),
}

# ---------------------------------------------------------------- card users

SV_CARD_USER: CueTable = {
    # «Kommer» alone answers the reminder's «Svara JA om du kommer». Weaker than a social word:
    # «tack för påminnelsen, jag kommer» thanks.
    Sense.coming: (
        (1.5, "jag_kommer; =kommer"),
    ),
    Intent.status: (
        (3.5, "har kort|kortet|korten kommit; var är kort|kortet; när kommer kort|kortet; "
              "kommit fram"),
        (3, "kommer_kort|kortet"),
        (3, "kort|kortet kommit; status|statusen; var kort|kortet; framme; "
            "kortet skickats|skickat"),
        (2.5, "levererat|levererats|leverans; spåra; hur långt; "
              "beställde|beställt|beställdes|beställning; hur går det med"),
        (2, "skickat|skickats|skickad; avi|avin|aviseringen; hänt med"),
        (1.5, "kommit; när kommer; rek|rekommenderat; mitt kort|kortet; inte hört"),
    ),
    Sense.when_card: (
        (3.5, "när kan jag hämta|få; när får jag kort|kortet; när kan man hämta"),
    ),
    Intent.book: (
        (3, "=boka|=bokar|=bokas; lediga|ledig tider|tid; =vilka tider; finns det tid|tider; "
            "boka tid; få en tid; andra|fler|övriga tider|dagar; visa tider; vill hämta"),
        (2.5, "lucka|luckor; hämta ut; kan jag komma; kan man komma; vad finns"),
        (1.5, "hämta|hämtar; =bokning; komma|kommer förbi; =passa|=passar; går det"),
        (1, "tid"),
    ),
    Intent.my_meeting: (
        (4, "när är min tid; vilken tid hade jag; när ska jag dit|komma|vara där; "
            "har jag bokat; jag har bokat; har jag en tid|bokning; när var|är tiden|mötet; "
            "vilken tid var|är det"),
        (3, "min tid; mitt möte|mötet; min bokning|bokade; när ska jag; när och var; "
            "vilken dag hade jag; är_det =på"),
        (1.5, "när är; vilken tid; är min; bokad|bokat tid; när var"),
    ),
    Intent.move: (
        (4, "boka om; ombokning|omboka|ombokar; annan tid|dag; ändra tid|tiden; "
            "byta tid|tiden; flytta tid|tiden|den|mötet"),
        (3.5, "kan|går jag|vi|det inte ta|få"),
        (3, "ändra|ändrar|ändring; byta|byt|byter; flytta|flyttar"),
        (2, "istället|hellre; senare tid; tidigare tid"),
    ),
    Intent.cancel: (
        (3.5, "avboka|avbokar|avbokning|avbokningen|avbokat|avbok*; stryka|stryk min; "
              "ta bort min tid|bokning|möte"),
        (2.5, "stryk|stryka; ta bort; ställ in|ställa in"),
    ),
    Intent.what_to_bring: (
        (3.5, "ta med; ha med; tar med; vad behöver jag; vad ska jag visa"),
        (3, "legitimation*|leg|id|id-kort|idkort|id-handling|identitetskort|=pass|=passet|"
            "körkort*|pin*|pinkuvert*; mobilt bankid; visa upp; vilka handlingar"),
        (2, "bankid|kuvert*|giltig|giltigt|identifiera|handling|handlingar"),
        (1.5, "behöver jag"),
    ),
    Intent.where: (
        (3.5, "var ligger; vilken adress; var hämtar; var ses vi; var ska vi ses|träffas; "
              "var träffas; var ska jag; var är kontoret|mötesplatsen|ni; "
              "vilket café|kafé|ställe; var någonstans; hitta dit; vägbeskrivning"),
        (3, "adress|adressen; karta|kartan; ses vi; träffas vi; mötesplats*; var möts"),
        (2, "kontor|kontoret|plats|platsen; var"),
        (1.5, "café|cafe|kafé|caféet|cafeet|kaféet|hotell|lobbyn"),
    ),
    Intent.cant_come: (
        (3.5, "kan inte komma; inte kan komma; inte hinna|hinner; hinner inte; förhinder; "
              "kommer inte kunna; uteblir; missar tiden; missa tiden; inte dyka upp"),
        (3, "blir sjuk"),
        (2.5, "kommer inte; missar|missa; kan inte"),
        (1.5, "vad händer om; om jag inte; vad gör jag om"),
    ),
    Intent.keep_time: (
        (3.5, "hur länge sparas|ligger|finns|behåller|har ni; ligga|ligger kvar; sparas"),
        (3, "vad händer med kortet|kort"),
        (2.5, "hur länge; skickas tillbaka; tillbaka till; förvaras; hur lång tid"),
        (1.5, "kvar; =senast; på_mig"),
    ),
    Intent.write_admin: (
        (3.5, "säg till; skriv till; meddela; skicka ett|en meddelande|hälsning; kontakta; "
              "blir sen|försenad; är sen; lite sen|=sent; minuter|=min sen|=sent; kommer_=sent; "
              "försenad|försenat; "
              "hittar inte; står vid|utanför; väntar utanför|vid; är_på_plats; är_på_väg; "
              "strax där; jag_är_framme|här; är_framme_nu|här_nu"),
        (2.5, "hälsa; meddelande; på väg; prata med"),
        (2, "admin|administratör*|id-admin*; den som lämnar ut"),
    ),
}

EN_CARD_USER: CueTable = {
    Sense.coming: (
        (1.5, "im_coming; ill_be_there; will_be_there; =coming"),
    ),
    Intent.status: (
        (3.5, "card arrived; card arrive; where is card; where card; has card come|arrived; "
              "when will card; status; card_=coming"),
        (2.5, "shipped|delivered|track|tracking; come yet; news|update|updates"),
        (1.5, "arrived|arrive|ready|yet; my card"),
    ),
    Sense.when_card: (
        (3.5, "when can i pick|collect|get"),
    ),
    Intent.book: (
        (3, "=book; make an appointment; available|availability; free times|time|slots; "
            "what times; get a time; like|want to pick|collect|get"),
        (2.5, "can|could i|we come; schedule; slot|slots; come_by"),
        (1.5, "pick up; collect; =booking; =come; suit|suits"),
        (1, "appointment|time"),
    ),
    Intent.my_meeting: (
        (4, "when is my appointment|booking|time|meeting; what time is my; "
            "when do i come|go"),
        (3, "my appointment|booking|time|meeting; when do i; is_it =on|=at"),
        (1.5, "when is; what time; =booked"),
    ),
    Intent.move: (
        (4, "another|different|other time|day; change the|my time|appointment|booking; "
            "rebook|reschedule|postpone; move it|the|my"),
        (3, "change|move"),
        (2, "instead|rather; earlier|later time"),
    ),
    Intent.cancel: (
        (3.5, "cancel|cancelling|canceling|cancellation; call_off; delete|remove my booking"),
    ),
    Intent.what_to_bring: (
        (3.5, "bring; need to show|have; what do i need"),
        (3, "passport|identification|licence|license|pin|envelope|documents|id|bankid; "
            "pin code|letter"),
        (1.5, "do i need"),
    ),
    Intent.where: (
        (3.5, "where is the office|place|cafe|meeting; where do we meet; where are you; "
              "address; location; directions; how do i get there; find you; map"),
        (2, "where; office; meet"),
        (1.5, "cafe|hotel|lobby"),
    ),
    Intent.cant_come: (
        (3.5, "cant|cannot|wont come|make; unable to come|make; not able to come|make; "
              "not_=coming; "
              "miss my appointment|time; cant attend"),
        (1.5, "what happens if; what if"),
    ),
    Intent.keep_time: (
        (3.5, "how long keep|kept|hold|store; keep my card"),
        (2.5, "how long; sent back; send back; returned"),
    ),
    Intent.write_admin: (
        (3.5, "tell the|them|him|her; let them|him|her|the know; message; contact; "
              "running late; be late; im late; stuck in traffic; be there in; on my way; "
              "omw; cant find; outside; waiting at|outside|by; im here"),
        (2.5, "late; pass on; inform"),
        (2, "admin|administrator"),
    ),
}

# ---------------------------------------------------------------- administrators

SV_ADMIN: CueTable = {
    Sense.yes_word: (
        (1, "jag_kommer"),
    ),
    Intent.today: (
        (3.5, "idag|dagens; i_dag"),
        (1, "nu"),
    ),
    Intent.tomorrow: (
        (3.5, "imorgon; i_morgon; morgondagen"),
    ),
    Intent.upcoming: (
        (3, "=kommande; framöver; schema|schemat; agenda|agendan; vad har jag på gång"),
        (2, "nästa vecka; veckan"),
        (1.5, "bokningar|möten|mötena|tider|bokat; vad har jag"),
    ),
    Intent.custody: (
        (3.5, "vilka kort; hur många kort; kort har jag; kort i förvar; förvar|förvaring*"),
        (2, "kort|korten|kortet; hos mig; ligger hos; skåp|skåpet"),
        (1, "kvar"),
    ),
    Intent.picked_up: (
        (3.5, "hämtat|hämtade|hämtats; hämtat ut; hämtade ut; har hämtat"),
        (1.5, "rek|rekar|rekbrev; posten|postombud*|ombud|ombudet; brev|breven"),
    ),
    Intent.avi_arrived: (
        (3.5, "avi|avin|avier|aviseringen|avisering|avisering*|aviserat"),
        (2.5, "notis|aviserad"),
    ),
    Intent.absence: (
        (3.5, "ledig|ledigt|ledighet|sjuk|sjukskriven|bortrest|semester|frånvarande|frånvaro|"
              "vab|vabbar|föräldraledig; inte tillgänglig; inte jobba"),
        (2.5, "borta; kan inte ta; inga möten; ta emot; bortest|resa|reser"),
    ),
}

EN_ADMIN: CueTable = {
    Intent.today: (
        (3.5, "today|todays; tonight"),
    ),
    Intent.tomorrow: (
        (3.5, "tomorrow|tomorrows"),
    ),
    Intent.upcoming: (
        (3, "upcoming; coming up; schedule; agenda; what is next; next week"),
        (1.5, "appointments|meetings|bookings|booked; what do i have"),
    ),
    Intent.custody: (
        (3.5, "which cards; how many cards; cards do i have; custody; cards in"),
        (2, "cards|card; stored; with me"),
    ),
    Intent.picked_up: (
        (3.5, "picked up; collected; fetched; got the letters|cards"),
        (1.5, "post office; registered; letters"),
    ),
    Intent.avi_arrived: (
        (3.5, "notice|notices|notification|avi|slip"),
    ),
    Intent.absence: (
        (3.5, "sick|ill|away|vacation|holiday|holidays|unavailable|leave; not available; "
              "day off; off on; off"),
        (2.5, "not working; cant take"),
    ),
}

# fmt: on

# ---------------------------------------------------------------- words that mean little

# Words after which a cancel or a move is refused rather than asked for: «avboka inte».
NEGATIONS = frozenset(
    {"inte", "ej", "inget", "ingenting", "aldrig", "icke", "not", "dont", "never", "didnt"}
)

# Words a bare time wish is made of (the wish parser's and the English ones it is given),
# and the filler around it: a message of these and little else is a time wish.
SV_TIME_WORDS = _words(
    """
    måndag tisdag onsdag torsdag fredag lördag söndag mån tis ons tors tor fre lör sön
    måndagar tisdagar onsdagar torsdagar fredagar lördagar söndagar vardag vardagar helg helgen
    januari februari mars april maj juni juli augusti september oktober november december
    jan feb mar apr jun jul aug sep sept okt nov dec
    morgon morgonen förmiddag förmiddagen fm lunch lunchen eftermiddag eftermiddagen em
    kväll kvällen kvällar dagtid bitti
    idag imorgon övermorgon ikväll dag dagen dagar vecka veckan veckor nästa kommande denna
    kl klockan halv efter före innan mellan till från senast tidigast runt vid omkring cirka ca
    och eller el på i den om under utom förutom inte ej helst gärna typ nån någon gång tid
    tiden funkar passar går bra tack ok okej då snarast så snart som möjligt fort fortast
    när helt flexibel spelar ingen roll kvittar alla tider jobbet jobb skolan v istället hellre
    """
)
EN_TIME_WORDS = _words(
    """
    monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs
    fri sat sun weekday weekdays weekend morning afternoon evening noon lunch tonight today
    tomorrow next week this after before between and or on at in the not any anytime sometime
    time please around about earliest possible soon as asap day days am pm work
    january february march april may june july august september october november december
    """
)
TIME_WORDS = SV_TIME_WORDS | EN_TIME_WORDS

# Common words the typo correction must leave alone: without them it would «correct» an
# ordinary word into a cue word («bytt» into «byta»).
SV_KNOWN = _words(
    """
    jag du han hon vi ni de dom den det denna detta dessa min mitt mina din ditt dina sin sitt
    sina vår vårt våra er ert era mig dig sig oss er dem honom henne man en ett och att som för
    från till med utan om på i av ut in upp ner över under efter före innan sedan sen då när var
    vart hur vad vilken vilket vilka varför så men eller inte ej ingen inget inga någon något
    några nån nåt alla allt mycket lite bara också redan ännu än kan kunde ska skulle vill ville
    måste får fick har hade är blir blev bli vara varit ha haft göra gör gjorde gjort gå går
    gick gått komma kommer kom kommit se ser såg sett säga säger sa sagt få ta tar tog tagit ge
    ger gav gett ja nej här där hit dit nu snart igen bra dålig stor liten ny nya gammal första
    sista annan andra samma egen egna hela helt tycker tror vet veta kanske väl ju nog visst
    fråga frågor undrar undra sms mejl mail mejlet e-post telefon mobil jobb jobbet jobbar
    heltid deltid skola hem hemma stan staden fram bort tillbaka vänta väntar kort kortet
    korten siths nytt nya gamla fel rätt tiden tider dag dagar vecka veckor timme timmar
    minut minuter kvart halv hel hela sjuk frisk covid förkyld barn barnen sambo fru man
    pojkvän flickvän mamma pappa bil buss tåg cykel trafik kö sorry förlåt ursäkta oj hmm
    aha jaha jasså typ liksom alltså asså ba iaf iofs förresten dock dessutom annars tyvärr
    gärna helst absolut kanske precis exakt självklart klart fixat gjort glad ledsen bytt
    bytte byts köpt sålt bott bor bodde bott jobbade visa visar upp ner nedan ovan
    centralen stationen centrum gatan vägen torget entrén dörren ingången receptionen
    väder vädret pizza mat äta dricka kaffe kaffet öppet stänger stängt öppnar ring ringa
    """
)
EN_KNOWN = _words(
    """
    i you he she it we they me him her us them my your his its our their mine yours a an the
    and or but if then so to of in on at by for with about from into out up down over under
    again is are was were be been being have has had do does did done will would can could
    shall should may might must not no yes this that these those what which who whom whose
    when where why how all any both each few more most other some such only own same than too
    very just also now here there get got make made go going gone come came take took give
    gave know knew think thought see saw want wanted need needed tell told ask asked work
    please thanks sorry hi hello okay ok im ive ill id dont cant wont isnt arent wasnt
    didnt doesnt thats whats wheres theres lets yet still already soon later much many
    little lot bit minute minutes min mins hour hours day days week weeks traffic car bus
    train stuck running late weather like pizza order text message sms email phone number
    new old first last next one two three four five ten fifteen twenty thirty be there
    """
)

# ---------------------------------------------------------------- the tables by role and language

SV_TABLES = (SV_SHARED, SV_CARD_USER, SV_ADMIN)
EN_TABLES = (EN_SHARED, EN_CARD_USER, EN_ADMIN)


def phrases(table: CueTable) -> Iterator[tuple[Target, float, str]]:
    """Each phrase of a table with its target and weight."""
    for target, weighted in table.items():
        for weight, written in weighted:
            for phrase in written.split(";"):
                if phrase.strip():
                    yield target, weight, phrase.strip()


def cue_words(tables: tuple[CueTable, ...]) -> tuple[frozenset[str], frozenset[str]]:
    """The whole words and the word beginnings («pin*») the tables' phrases are made of."""
    words: set[str] = set()
    beginnings: set[str] = set()
    for table in tables:
        for _, _, phrase in phrases(table):
            for slot in phrase.split():
                for word in slot.replace("_", " ").replace("|", " ").split():
                    word = word.removeprefix("=")
                    (beginnings if word.endswith("*") else words).add(word.rstrip("*"))
    return frozenset(words), frozenset(beginnings)
