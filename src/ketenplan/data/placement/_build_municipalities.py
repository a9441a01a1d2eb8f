import pandas as pd, sys
src = sys.argv[1]; out = sys.argv[2]
a = pd.read_csv(f'{src}/arbeidsmarktregios_2015_gemeenten.csv')
g = pd.read_csv(f'{src}/gemeenten_2025_provincie_population_tidy.csv')
g21 = pd.read_csv(f'{src}/gemeenten_2021_population_provincie_tidy.csv')
s25 = set(g.gemeente_2025)
m = {
 'Appingedam':'Eemsdelta','Delfzijl':'Eemsdelta','Loppersum':'Eemsdelta',
 'Bedum':'Het Hogeland','De Marne':'Het Hogeland','Eemsmond':'Het Hogeland','Winsum':'Het Hogeland',
 'Bellingwedde':'Westerwolde','Vlagtwedde':'Westerwolde',
 'Grootegast':'Westerkwartier','Leek':'Westerkwartier','Marum':'Westerkwartier','Zuidhorn':'Westerkwartier',
 'Haren':'Groningen','Ten Boer':'Groningen',
 'Hoogezand-Sappemeer':'Midden-Groningen','Menterwolde':'Midden-Groningen','Slochteren':'Midden-Groningen',
 'De Friese Meren':'De Fryske Marren',
 'Dongeradeel':'Noardeast-Fryslân','Ferwerderadiel':'Noardeast-Fryslân','Kollumerland en Nieuwkruisland':'Noardeast-Fryslân',
 'Franekeradeel':'Waadhoeke','Het Bildt':'Waadhoeke','Menameradiel':'Waadhoeke',
 'Leeuwarderadeel':'Leeuwarden','Littenseradiel':'Súdwest-Fryslân','Súdwest Fryslân':'Súdwest-Fryslân',
 'Bergen NH':'Bergen (NH.)','Zeevang':'Edam-Volendam','Haarlemmerliede en Spaarnwoude':'Haarlemmermeer',
 'Bussum':'Gooise Meren','Muiden':'Gooise Meren','Naarden':'Gooise Meren','Laren':'Laren (NH.)',
 'Noordwijkerhout':'Noordwijk','Vianen':'Vijfheerenlanden','Leerdam':'Vijfheerenlanden','Zederik':'Vijfheerenlanden',
 'Bergambacht':'Krimpenerwaard','Nederlek':'Krimpenerwaard','Ouderkerk':'Krimpenerwaard','Schoonhoven':'Krimpenerwaard','Vlist':'Krimpenerwaard',
 '’s-Gravenhage':"'s-Gravenhage",'’s-Hertogenbosch':"'s-Hertogenbosch",'Rijnwaarden':'Zevenaar',
 'Binnenmaas':'Hoeksche Waard','Cromstrijen':'Hoeksche Waard','Korendijk':'Hoeksche Waard','Oud-Beijerland':'Hoeksche Waard','Strijen':'Hoeksche Waard',
 'Geldermalsen':'West Betuwe','Neerijnen':'West Betuwe','Lingewaal':'West Betuwe',
 'Giessenlanden':'Molenlanden','Molenwaard':'Molenlanden','Groesbeek':'Berg en Dal','Haaren':'Oisterwijk',
 'Schijndel':'Meierijstad','Sint-Oedenrode':'Meierijstad','Veghel':'Meierijstad',
 'Aalburg':'Altena','Werkendam':'Altena','Woudrichem':'Altena','Bergen (L)':'Bergen (L.)',
 'Nuenen CA':'Nuenen, Gerwen en Nederwetten','Nuth':'Beekdaelen','Onderbanken':'Beekdaelen','Schinnen':'Beekdaelen',
 'Rijswijk':'Rijswijk (ZH.)','Beek':'Beek (L.)','Stein':'Stein (L.)','Middelburg':'Middelburg (Z.)','Hengelo':'Hengelo (O.)',
}
m21 = dict(zip(g21.gemeente_2021, g21.gemeente_2025))
def succ(n):
    if n in m: return m[n]
    if n in s25: return n
    if n in m21: return m21[n]
    raise KeyError(n)
a['gemeente_2025'] = a.gemeente_2015.map(succ)
assert set(a.gemeente_2025) <= s25, set(a.gemeente_2025) - s25
missing = s25 - set(a.gemeente_2025); assert not missing, missing
a.drop(columns='same', errors='ignore')[['gemeente_2015','gemeente_2025','region_no','arbeidsmarktregio']].to_csv(f'{out}/gemeente_2015_to_2025.csv', index=False)
# region of a 2025 municipality: the region holding most of its 2015 predecessors; ties -> lowest region_no
a['same'] = (a.gemeente_2015 == a.gemeente_2025).astype(int)
cnt = a.groupby(['gemeente_2025','region_no','arbeidsmarktregio']).agg(n=('same','size'), same=('same','max')).reset_index()
split = cnt.groupby('gemeente_2025').region_no.nunique(); print('split over regions:', split[split>1].to_dict())
cnt = cnt.sort_values(['gemeente_2025','same','n','region_no'], ascending=[True,False,False,True]).drop_duplicates('gemeente_2025')
# attributes on 2025 borders from 2021 CBS
g21['w'] = g21.population_2021_cbs_kwb * g21.pct_non_western_migr_background
agg = g21.groupby('gemeente_2025').agg(households_2021=('households_2021','sum'), land_area_ha=('land_area_ha','sum'), w=('w','sum'), pop21=('population_2021_cbs_kwb','sum'))
big = g21.sort_values('population_2021_cbs_kwb', ascending=False).drop_duplicates('gemeente_2025').set_index('gemeente_2025').stedelijkheid_1_5
agg['stedelijkheid_1_5'] = big
agg['pct_non_western_migr_background'] = (agg.w/agg.pop21).round(1)
agg['pop_density_per_km2'] = (agg.pop21/(agg.land_area_ha/100)).round(0).astype(int)
df = g.rename(columns={'gemeente_2025':'municipality','provincie':'province','population_2025_as_in_source_file':'population_2025','population_2021_cbs_kwb_on_2025_borders':'population_2021'})
assert (df.set_index('municipality').population_2021 == agg.pop21.reindex(df.municipality).values).all()
df = df.merge(cnt[['gemeente_2025','region_no','arbeidsmarktregio']].rename(columns={'gemeente_2025':'municipality','region_no':'labour_market_region_no','arbeidsmarktregio':'labour_market_region'}), on='municipality')
df = df.merge(agg[['households_2021','land_area_ha','pop_density_per_km2','stedelijkheid_1_5','pct_non_western_migr_background']], left_on='municipality', right_index=True)
df = df.sort_values('municipality').reset_index(drop=True)
print(len(df), df.population_2025.sum(), df.population_2021.sum(), df.labour_market_region_no.nunique())
df.to_csv(f'{out}/municipalities.csv', index=False)
